// Replacing a directory so that its name always holds one whole version: the new one is written
// under a hidden name beside it, every file and the folder are fsync'ed, and the two are
// exchanged atomically (renameat2(RENAME_EXCHANGE) on Linux, renamex_np(RENAME_SWAP) on Darwin).
// Where the system cannot exchange, two renames are used and a reader recovers the one state
// in which the name is briefly absent (see `recover`).
import Foundation
import GPTFiles
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum DurableDirectory {
    /// `url`, or where it points if its last component is a symbolic link (followed up to 8
    /// times; the folders above are left as they are, so a `/proc/self/fd/N/name` anchor for a
    /// folder whose name is not UTF-8 keeps working).
    static func followingLink(_ url: URL) -> URL {
        var url = url
        for _ in 0..<8 {
            var status = stat()
            guard lstat(url.path, &status) == 0, status.st_mode & S_IFMT == S_IFLNK,
                  let target = try? FileManager.default.destinationOfSymbolicLink(atPath: url.path) else { return url }
            url = target.hasPrefix("/") ? URL(fileURLWithPath: target) : url.deletingLastPathComponent().appendingPathComponent(target)
        }
        return url
    }

    /// The hidden names beside `target`: `.NAME.partial-UUID` (being written, or the old version
    /// after an exchange) and `.NAME.old-UUID` (the old version during a two-rename switch).
    static func partialURL(for target: URL) -> URL {
        target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial-\(UUID().uuidString)")
    }

    static func leftovers(of target: URL) -> [URL] {
        let parent = target.deletingLastPathComponent()
        let prefixes = [".\(target.lastPathComponent).partial-", ".\(target.lastPathComponent).old-"]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? []
        return names.filter { name in prefixes.contains { name.hasPrefix($0) } }.sorted().map { parent.appendingPathComponent($0) }
    }

    /// Makes `target` hold a whole version again after an interrupted switch, then (with
    /// `removingLeftovers`, for writers only: a reader must not delete a copy a live writer is
    /// filling) removes every leftover hidden copy. `isComplete` says whether a directory holds
    /// a whole version.
    static func recover(_ target: URL, removingLeftovers: Bool, isComplete: (URL) -> Bool) {
        let manager = FileManager.default
        let hidden = leftovers(of: target)
        if !manager.fileExists(atPath: target.path) {
            // Interrupted between the two renames of the fallback: prefer the new version if it
            // is whole, else the old one.
            let candidates = hidden.filter { $0.lastPathComponent.contains(".partial-") && isComplete($0) }
                + hidden.filter { $0.lastPathComponent.contains(".old-") && isComplete($0) }
            if let restored = candidates.first { try? manager.moveItem(at: restored, to: target) }
        }
        guard removingLeftovers else { return }
        for url in leftovers(of: target) { try? manager.removeItem(at: url) }
    }

    /// `fsync` of a file or a directory.
    static func sync(_ url: URL) throws {
        let descriptor = open(url.path, O_RDONLY)
        guard descriptor >= 0 else { throw TrainingError.io("cannot open \(url.path) to sync it: \(Files.reason(errno: errno))") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw TrainingError.io("cannot sync \(url.path): \(Files.reason(errno: errno))") }
    }

    /// Syncs every file in `directory`, then the directory itself.
    static func syncContents(of directory: URL) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            try sync(directory.appendingPathComponent(name))
        }
        try sync(directory)
    }

    /// Puts the whole directory `source` at `target`. If `target` exists, the two are exchanged
    /// atomically and `source` then holds the old version (the caller removes it). Returns
    /// whether an exchange happened. `GPTKIT_CHECKPOINT_NO_EXCHANGE=1` forces the two-rename
    /// fallback (for tests).
    @discardableResult
    static func install(_ source: URL, at target: URL, fault: (String) -> Void) throws -> Bool {
        let manager = FileManager.default
        defer { try? sync(target.deletingLastPathComponent()) }
        guard manager.fileExists(atPath: target.path) else {
            guard rename(source.path, target.path) == 0 else { throw posixError("rename \(source.path) to \(target.path)") }
            return false
        }
        if ProcessInfo.processInfo.environment["GPTKIT_CHECKPOINT_NO_EXCHANGE"] != "1", exchange(source, target) {
            return true
        }
        // Two renames: between them `target` is absent and `recover` puts back a whole version.
        let old = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).old-\(UUID().uuidString)")
        guard rename(target.path, old.path) == 0 else { throw posixError("rename \(target.path) aside") }
        fault("between-renames")
        guard rename(source.path, target.path) == 0 else {
            _ = rename(old.path, target.path)
            throw posixError("rename \(source.path) to \(target.path)")
        }
        try? manager.removeItem(at: old)
        return false
    }

    /// An atomic exchange of two paths, where the system has one.
    static func exchange(_ a: URL, _ b: URL) -> Bool {
        #if canImport(Glibc)
        typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return false }
        let renameat2 = unsafeBitCast(symbol, to: RenameAt2.self)
        let exchangeFlag: UInt32 = 1 << 1  // RENAME_EXCHANGE
        return renameat2(AT_FDCWD, a.path, AT_FDCWD, b.path, exchangeFlag) == 0
        #elseif canImport(Darwin)
        return renamex_np(a.path, b.path, UInt32(RENAME_SWAP)) == 0
        #else
        return false
        #endif
    }

    static func posixError(_ what: String) -> TrainingError {
        .io("cannot \(what): \(Files.reason(errno: errno))")
    }
}
