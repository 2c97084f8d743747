import FarmTestSupport
import Foundation
import Testing

@testable import FarmKit

@Suite struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
        (
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        ),
    ])
    func fipsVectors(message: String, digest: String) {
        #expect(SHA256.hex(of: message) == digest)
    }

    @Test func oneMillionAs() {
        var hasher = SHA256()
        let thousand = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { hasher.update(thousand) }
        #expect(SHA256.hexString(hasher.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Lengths around the padding boundaries (one or two final blocks); digests from Python's hashlib.
    @Test(arguments: [
        (55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
        (56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
        (63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"),
        (64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
        (65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"),
        (119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"),
        (120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"),
    ])
    func blockBoundaries(length: Int, digest: String) {
        #expect(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: length)) == digest)
    }

    @Test(arguments: [1, 3, 7, 13, 55, 63, 64, 65, 127, 1000])
    func streamingEqualsOneShot(chunkSize: Int) {
        let message = (0..<10_007).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
        var hasher = SHA256()
        var start = 0
        while start < message.count {
            let end = min(start + chunkSize, message.count)
            message[start..<end].withUnsafeBytes { hasher.update($0) }
            start = end
        }
        #expect(SHA256.hexString(hasher.finalize()) == SHA256.hex(message))
    }

    @Test func nonContiguousSequenceEqualsArray() {
        let bytes = (0..<9000).lazy.map { UInt8(truncatingIfNeeded: $0 &* 31) }
        #expect(SHA256.hex(bytes) == SHA256.hex(Array(bytes)))
        #expect(SHA256.hex(Data("abc".utf8)) == SHA256.hex(of: "abc"))
    }

    @Test func finalizeLeavesTheHasherUsable() {
        var hasher = SHA256()
        hasher.update(Array("ab".utf8))
        #expect(SHA256.hexString(hasher.finalize()) == SHA256.hex(of: "ab"))
        hasher.update(Array("c".utf8))
        #expect(SHA256.hexString(hasher.finalize()) == SHA256.hex(of: "abc"))
    }

    @Test func fileDigestMatchesSha256sum() throws {
        let folder = try TemporaryDirectory("sha256")
        defer { folder.remove() }
        let file = folder.file("random.bin")
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 3 << 20)
        bytes.withUnsafeMutableBytes { raw in
            for offset in stride(from: 0, to: raw.count, by: 8) { raw.storeBytes(of: generator.next(), toByteOffset: offset, as: UInt64.self) }
        }
        try Data(bytes).write(to: file)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sha256sum", file.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)

        let expected = try #require(printed.split(separator: " ").first.map(String.init))
        #expect(try SHA256.hexOfFile(at: file) == expected)
        #expect(SHA256.hex(bytes) == expected)
    }

    @Test func unreadableFileNamesThePath() throws {
        let folder = try TemporaryDirectory("sha256")
        defer { folder.remove() }
        let missing = folder.file("missing.bin")
        #expect(throws: FileReadError(path: missing.path, reason: "No such file or directory")) {
            try SHA256.hexOfFile(at: missing)
        }
        #expect(throws: FileReadError(path: folder.url.path, reason: "Is a directory")) {
            try SHA256.hexOfFile(at: folder.url)
        }
    }
}
