// FileIO: reading whole files and writing them atomically (temporary file, then rename), with
// failures reported as TokenizerError.fileAccess.

import Foundation
import GPTFiles
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - FileIO

enum FileIO {
    /// Returns the contents of the file at `url`.
    static func read(_ url: URL) throws -> Data {
        do {
            return try Files.read(url)
        } catch {
            throw TokenizerError.fileAccess(path: url.path, reason: error.reason)
        }
    }

    /// Writes `data` to `url` atomically: to a temporary file in the same directory, then
    /// `rename(2)` over the destination, so readers see the old file or the new one, never a
    /// partial one.
    static func writeAtomically(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try data.write(to: temporary)
        } catch {
            throw TokenizerError.fileAccess(path: url.path, reason: "cannot write: \(Files.reason(for: error))")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = Files.reason(errno: errno)
            try? FileManager.default.removeItem(at: temporary)
            throw TokenizerError.fileAccess(path: url.path, reason: "cannot rename the temporary file into place: \(reason)")
        }
    }

    /// Writes `text` as UTF-8 to `url` atomically.
    static func writeAtomically(_ text: String, to url: URL) throws {
        try writeAtomically(Data(text.utf8), to: url)
    }
}
