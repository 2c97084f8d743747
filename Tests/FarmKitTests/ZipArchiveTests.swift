import FarmTestSupport
import Foundation
import Testing

@testable import FarmKit

@Suite struct ZipArchiveTests {
    @Test func writesStoredEntriesThatPythonReadsAndReadsThemBack() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let a = folder.file("a.wav"), b = folder.file("b.txt")
        try Data(repeating: 7, count: 70_000).write(to: a)
        try Data("hello".utf8).write(to: b)
        let zip = folder.file("out.zip")
        try ZipArchive.write([("dataset/x/split_0.wav", a), ("notes/b.txt", b)], to: zip)

        let check = "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(' '.join(z.namelist()))"
        let python = try await ProcessRunner.run("python3", ["-c", check, zip.path])
        #expect(python.status == 0, "\(python.standardError)")
        #expect(python.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == "dataset/x/split_0.wav notes/b.txt")

        let entries = try ZipArchive.entries(of: zip)
        #expect(entries.map(\.name) == ["dataset/x/split_0.wav", "notes/b.txt"])
        #expect(try ZipArchive.contents(of: entries[0], in: zip) == Data(repeating: 7, count: 70_000))
        // The same files make the same bytes.
        let again = folder.file("again.zip")
        try ZipArchive.write([("dataset/x/split_0.wav", a), ("notes/b.txt", b)], to: again)
        #expect(try Data(contentsOf: zip) == Data(contentsOf: again))
    }

    @Test func readsDeflatedEntriesAndRefusesDamage() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let zip = folder.file("photos.zip")
        let make = "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED); z.writestr('p/img.txt', 'caption '*500); z.close()"
        #expect(try await ProcessRunner.run("python3", ["-c", make, zip.path]).status == 0)
        let entries = try ZipArchive.entries(of: zip)
        #expect(entries.first?.method == 8)
        #expect(try ZipArchive.contents(of: entries[0], in: zip) == Data(String(repeating: "caption ", count: 500).utf8))

        try Data("not a zip at all, just some text that is long enough".utf8).write(to: folder.file("bad.zip"))
        #expect(throws: ZipError.self) { try ZipArchive.entries(of: folder.file("bad.zip")) }
    }
}
