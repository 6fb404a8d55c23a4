// GPTFiles: every way reading a file or creating a folder fails is put in words.
import Foundation
import XCTest
@testable import GPTFiles

final class FilesTests: XCTestCase {
    func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func reason(reading url: URL) -> String? {
        do { _ = try Files.read(url); return nil } catch { return error.reason }
    }

    func testReadingNamesWhatIsWrong() throws {
        let folder = try temporaryFolder()
        let file = folder.appendingPathComponent("a.txt")
        try Data("héllo".utf8).write(to: file)
        XCTAssertNil(reason(reading: file))
        XCTAssertEqual(try Files.readText(file), "héllo")
        XCTAssertEqual(reason(reading: folder.appendingPathComponent("missing")), "no such file or folder")
        XCTAssertEqual(reason(reading: folder), "is a folder, not a file")
        XCTAssertEqual(reason(reading: URL(fileURLWithPath: "/dev/null")), "is not a regular file (a device, a pipe or a socket)")
        XCTAssertEqual(reason(reading: file.appendingPathComponent("below")), "a part of the path is a file, not a folder")
    }

    func testTextThatIsNotUTF8NamesTheFirstBadByte() throws {
        for (bytes, offset) in [([0xFF], 0), ([0x61, 0x62, 0xE9, 0x63], 2), ([0xC3, 0xA9, 0xC3], 2), ([0x61, 0xED, 0xA0, 0x80], 1)] as [([UInt8], Int)] {
            XCTAssertThrowsError(try Files.utf8Text(Data(bytes), path: "t.txt")) { error in
                XCTAssertEqual((error as? FileProblem)?.description, "t.txt: is not UTF-8 text (the first invalid byte is at offset \(offset))")
            }
        }
    }

    func testCreatingAFolderUnderAFileNamesTheFile() throws {
        let folder = try temporaryFolder()
        let file = folder.appendingPathComponent("plain")
        try Data().write(to: file)
        XCTAssertThrowsError(try Files.createFolder(file.appendingPathComponent("a/b"))) { error in
            XCTAssertEqual((error as? FileProblem)?.reason, "cannot create the folder: \(file.path) is a file, not a folder")
        }
        try Files.createFolder(folder.appendingPathComponent("x/y/z"))
        XCTAssertNil(Files.problemWithFolder(folder.appendingPathComponent("x/y/z")))
        XCTAssertEqual(Files.problemWithFolder(file), "is a file, not a folder")
    }

    func testFoundationErrorsBecomeWords() {
        XCTAssertEqual(Files.reason(for: CocoaError(.fileReadNoPermission)), "permission denied")
        XCTAssertEqual(Files.reason(for: CocoaError(.fileWriteFileExists)), "a file or folder is already there")
        XCTAssertEqual(Files.reason(for: CocoaError(.fileWriteOutOfSpace)), "no space left on the device")
        let wrapped = NSError(domain: NSCocoaErrorDomain, code: 512, userInfo: [
            NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(ENOTDIR)), NSFilePathErrorKey: "/dev/null/x"])
        XCTAssertEqual(Files.reason(for: wrapped), "a part of the path is a file, not a folder")
        XCTAssertEqual(Files.describe(wrapped), "/dev/null/x: a part of the path is a file, not a folder")
        XCTAssertEqual(Files.reason(errno: EROFS), "the file system is read-only")
    }

    func testDecodingErrorsNameTheKey() {
        struct State: Decodable { let step: Int; let inner: Inner }
        struct Inner: Decodable { let rate: Double }
        func describe(_ json: String) -> String {
            let result = Result { try JSONDecoder().decode(State.self, from: Data(json.utf8)) }
            guard case .failure(let error) = result else { return "decoded" }
            return (error as? DecodingError).map(DecodingErrors.describe) ?? "\(error)"
        }
        XCTAssertEqual(describe(#"{"inner": {"rate": 1}}"#), "missing key 'step'")
        XCTAssertEqual(describe(#"{"step": 1, "inner": {}}"#), "missing key 'inner.rate'")
        XCTAssertEqual(describe(#"{"step": "x", "inner": {"rate": 1}}"#), "bad value for 'step': expected a whole number in range")
        XCTAssertEqual(describe(#"{"step": 1, "inner": {"rate": null}}"#), "bad value for 'inner.rate': expected a number, found null")
    }
}
