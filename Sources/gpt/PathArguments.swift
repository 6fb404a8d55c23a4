// PathArguments: file names from the command line as URLs, including names that are not UTF-8.
//
// Swift decodes `argv` as UTF-8 and Foundation's URLs on Linux hold paths as UTF-8 text, so a
// name with other bytes (Latin-1 `caf\xe9.txt`, say) would turn into U+FFFD and name another
// file. For such an argument the raw bytes are taken from `argv`, the file (or the folder
// holding it) is opened, and the URL names it through `/proc/self/fd/N`, which
// the kernel resolves to the same file. Messages show the argument as typed, not the fd path.

import Foundation
import GPTFiles
#if canImport(Glibc)
import Glibc
#endif

enum PathArguments {
    /// The raw bytes of every command-line argument that is not valid UTF-8, keyed by the
    /// String Swift made of it.
    private static let rawArguments: [String: [UInt8]] = {
        var result: [String: [UInt8]] = [:]
        for index in 0..<Int(CommandLine.argc) {
            guard let pointer = CommandLine.unsafeArgv[index] else { continue }
            let bytes = Array(UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: strlen(pointer)))
            if String(validating: bytes, as: UTF8.self) == nil { result[String(decoding: bytes, as: UTF8.self)] = bytes }
        }
        return result
    }()

    /// The URL of the path `argument` (as Swift received it from the command line).
    ///
    /// - Parameter creatingFolder: for an output folder: the folders above it are created, and
    ///   its own name must be UTF-8 (a checkpoint is replaced by renaming it in its parent).
    /// - Throws: `UsageError` if a non-UTF-8 path cannot be opened or used as asked.
    static func url(_ argument: String, option: String, creatingFolder: Bool = false) throws -> URL {
        #if os(Linux)
        if let bytes = rawArguments[argument] { return try rawURL(bytes, argument: argument, option: option, creatingFolder: creatingFolder) }
        #endif
        return URL(fileURLWithPath: argument)
    }

    #if os(Linux)
    private static func rawURL(_ bytes: [UInt8], argument: String, option: String, creatingFolder: Bool) throws -> URL {
        var path = bytes
        while path.count > 1 && path.last == UInt8(ascii: "/") { path.removeLast() }
        let slash = path.lastIndex(of: UInt8(ascii: "/"))
        let parent: [UInt8] = slash.map { $0 == 0 ? [UInt8(ascii: "/")] : Array(path[..<$0]) } ?? [UInt8(ascii: ".")]
        let name = slash.map { Array(path[($0 + 1)...]) } ?? path
        if let text = String(validating: name, as: UTF8.self) {
            // Only folders above the name are not UTF-8: name the file inside the open parent.
            if creatingFolder { makeFolders(parent) }
            let folder = try open(parent, flags: O_RDONLY | O_DIRECTORY, argument: argument, option: option)
            return URL(fileURLWithPath: "/proc/self/fd/\(folder)", isDirectory: true).appendingPathComponent(text)
        }
        guard !creatingFolder else {
            throw UsageError(message: "--\(option) \(argument): the folder's own name is not UTF-8; a checkpoint is replaced by renaming it "
                + "beside its parent, which needs a UTF-8 name (folders above it may have any name)")
        }
        return URL(fileURLWithPath: "/proc/self/fd/\(try open(path, flags: O_RDONLY, argument: argument, option: option))")
    }

    /// Opens raw `path` for the rest of the run (the descriptor is the URL's anchor).
    private static func open(_ path: [UInt8], flags: Int32, argument: String, option: String) throws -> Int32 {
        let descriptor = (path + [0]).withUnsafeBufferPointer { Glibc.open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), flags | O_CLOEXEC) }
        guard descriptor >= 0 else { throw UsageError(message: "--\(option): \(argument): \(Files.reason(errno: errno))") }
        return descriptor
    }

    /// `mkdir -p` on raw bytes (failures surface when the folder is opened).
    private static func makeFolders(_ path: [UInt8]) {
        for end in path.indices where path[end] == UInt8(ascii: "/") && end > 0 || end == path.count - 1 {
            let prefix = Array(path[...end]) + [0]
            _ = prefix.withUnsafeBufferPointer { mkdir(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), 0o777) }
        }
    }
    #endif

    /// `text` with every `/proc/self/fd/N` anchor replaced by the folder or file it stands for
    /// (as UTF-8 with U+FFFD for the bytes that are not), for messages.
    static func displayed(_ text: String) -> String {
        #if os(Linux)
        var result = ""
        var rest = Substring(text)
        while let range = rest.range(of: #"/proc/self/fd/[0-9]+"#, options: .regularExpression) {
            result += rest[..<range.lowerBound]
            var buffer = [UInt8](repeating: 0, count: 4096)
            let length = buffer.withUnsafeMutableBufferPointer {
                readlink(String(rest[range]), UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), 4095)
            }
            result += length > 0 ? String(decoding: buffer[..<length], as: UTF8.self) : String(rest[range])
            rest = rest[range.upperBound...]
        }
        return result + rest
        #else
        return text
        #endif
    }
}
