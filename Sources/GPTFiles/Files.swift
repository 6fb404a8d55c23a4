// GPTFiles: reading files with every failure put in words ("no such file", "is a folder, not a
// file", "not UTF-8 text at byte 17"), for the other modules to wrap in their own error types.
// Package-internal: no public API.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be read or written: the path and the reason, in words.
package struct FileProblem: Error, Sendable, CustomStringConvertible {
    /// The file's path.
    package let path: String
    /// What is wrong, e.g. "no such file" or "is a folder, not a file".
    package let reason: String

    package init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// `path: reason`.
    package var description: String { "\(path): \(reason)" }
}

/// File reading with failures in words.
package enum Files {
    /// The bytes of the regular file at `url`, memory-mapped when `mapped` (for large weights).
    /// - Throws: `FileProblem` saying why in words: missing, a folder, a device, unreadable.
    package static func read(_ url: URL, mapped: Bool = false) throws(FileProblem) -> Data {
        if let reason = problemReading(url) { throw FileProblem(path: url.path, reason: reason) }
        do {
            return try Data(contentsOf: url, options: mapped ? .mappedIfSafe : [])
        } catch {
            throw FileProblem(path: url.path, reason: reason(for: error))
        }
    }

    /// The UTF-8 text of the regular file at `url`.
    /// - Throws: `FileProblem`, also when the bytes are not UTF-8 (naming the first bad byte).
    package static func readText(_ url: URL) throws(FileProblem) -> String {
        try utf8Text(read(url), path: url.path)
    }

    /// `data` decoded as UTF-8 (a leading byte order mark is kept as U+FEFF).
    /// - Throws: `FileProblem` naming the offset of the first byte that is not UTF-8.
    package static func utf8Text(_ data: Data, path: String) throws(FileProblem) -> String {
        if let text = String(validating: data, as: UTF8.self) { return text }
        var offset = 0
        var decoder = UTF8()
        var iterator = data.makeIterator()
        var consumed = 0
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): consumed += UTF8.width(scalar); offset = consumed
            case .emptyInput: break loop
            case .error: break loop
            }
        }
        throw FileProblem(path: path, reason: "is not UTF-8 text (the first invalid byte is at offset \(offset))")
    }

    /// Why the regular file at `url` cannot be read, or nil if it can.
    package static func problemReading(_ url: URL) -> String? {
        var status = stat()
        guard stat(url.path, &status) == 0 else { return reason(errno: errno) }
        let kind = status.st_mode & S_IFMT
        if kind == S_IFDIR { return "is a folder, not a file" }
        guard kind == S_IFREG else { return "is not a regular file (a device, a pipe or a socket)" }
        guard access(url.path, R_OK) == 0 else { return reason(errno: errno) }
        return nil
    }

    /// Creates the folder `url` and any folders above it that are missing.
    /// - Throws: `FileProblem` naming the part of the path that is in the way ("… is a file,
    ///   not a folder"), or the reason the system gave.
    package static func createFolder(_ url: URL) throws(FileProblem) {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            // The nearest existing ancestor tells what is wrong better than Foundation does.
            var ancestor = url
            while ancestor.path != "/" && ancestor.path != "" {
                var status = stat()
                if stat(ancestor.path, &status) == 0 {
                    if status.st_mode & S_IFMT != S_IFDIR {
                        throw FileProblem(path: url.path, reason: "cannot create the folder: \(ancestor.path) is a file, not a folder")
                    }
                    break
                }
                ancestor.deleteLastPathComponent()
            }
            throw FileProblem(path: url.path, reason: "cannot create the folder: \(reason(for: error))")
        }
    }

    /// Why an existing folder at `url` cannot be used, or nil if it is a folder (or absent).
    package static func problemWithFolder(_ url: URL) -> String? {
        var status = stat()
        guard stat(url.path, &status) == 0 else { return errno == ENOENT ? nil : reason(errno: errno) }
        return status.st_mode & S_IFMT == S_IFDIR ? nil : "is a file, not a folder"
    }

    /// A Foundation or POSIX file error in words ("permission denied", "no such file",
    /// "no space left on the device"), without Foundation's domain and code.
    package static func reason(for error: any Error) -> String {
        if let problem = error as? FileProblem { return problem.reason }
        let error = error as NSError
        if error.domain == NSPOSIXErrorDomain { return reason(errno: Int32(error.code)) }
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return reason(errno: Int32(underlying.code))
        }
        guard error.domain == NSCocoaErrorDomain else { return error.localizedDescription }
        switch error.code {
        case NSFileNoSuchFileError, NSFileReadNoSuchFileError: return "no such file or folder"
        case NSFileReadNoPermissionError, NSFileWriteNoPermissionError: return "permission denied"
        case NSFileReadCorruptFileError, NSFileReadInapplicableStringEncodingError: return "is not UTF-8 text"
        case NSFileReadTooLargeError: return "is too large to read"
        case NSFileWriteFileExistsError: return "a file or folder is already there"
        case NSFileWriteOutOfSpaceError: return "no space left on the device"
        case NSFileWriteVolumeReadOnlyError: return "the file system is read-only"
        case NSFileReadInvalidFileNameError, NSFileWriteInvalidFileNameError: return "the name is not a valid file name"
        default: return "the operation failed (\(error.localizedDescription))"
        }
    }

    /// Any error in words: a Foundation file error as "path: reason" (the path from its user
    /// info), others by their description.
    package static func describe(_ error: any Error) -> String {
        if let error = error as? LocalizedError, let text = error.errorDescription { return text }
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { return "\(error)" }
        let path = ns.userInfo[NSFilePathErrorKey] as? String ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
        return (path.map { "\($0): " } ?? "") + reason(for: error)
    }

    /// A POSIX error number in words, e.g. `ENOENT` → "no such file or folder".
    package static func reason(errno code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file or folder"
        case EACCES, EPERM: return "permission denied"
        case ENOTDIR: return "a part of the path is a file, not a folder"
        case EISDIR: return "is a folder, not a file"
        case ENOSPC: return "no space left on the device"
        case EROFS: return "the file system is read-only"
        case EEXIST: return "a file or folder is already there"
        case ENAMETOOLONG: return "the name is too long"
        case ELOOP: return "too many levels of symbolic links"
        default:
            let text = String(cString: strerror(code))
            return text.prefix(1).lowercased() + text.dropFirst()
        }
    }
}

/// `JSONDecoder`'s errors in words: which key, which value, what was expected.
package enum DecodingErrors {
    /// E.g. "missing key 'step'" or "bad value for 'configuration.batchSize': expected Int".
    package static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            let path = (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            return "missing key '\(path)'"
        case .typeMismatch(let type, let context):
            return "bad value for '\(path(context))': expected \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "bad value for '\(path(context))': expected \(typeName(type)), found null"
        case .dataCorrupted(let context) where context.codingPath.isEmpty && context.underlyingError == nil:
            // Foundation's parser says only "not valid JSON", also for a well-formed number that
            // is too large for its field.
            return "a value does not fit its field (a number beyond the range of its type) or the text is not valid JSON"
        case .dataCorrupted(let context):
            let underlying = (context.underlyingError as NSError?).map { " (\($0.localizedDescription))" } ?? ""
            let at = context.codingPath.isEmpty ? "" : "'\(path(context))': "
            return at + context.debugDescription + underlying
        @unknown default: return "\(error)"
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Int32.Type, is Int64.Type, is UInt64.Type: return "a whole number in range"
        case is Float.Type, is Double.Type: return "a number"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        default: return "\(type)"
        }
    }
}
