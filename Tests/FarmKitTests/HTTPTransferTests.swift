import FarmTestSupport
import Foundation
import Synchronization
import Testing

@testable import FarmKit

/// Downloads and uploads, one at a time.
@Suite(.loopbackServer, .serialized) struct HTTPTransferTests {
    let client = HTTPClient()
    var server: TestHTTPServer { HTTPTesting.server }

    /// Files in `folder`, hidden ones (temp files) included.
    func contents(of folder: TemporaryDirectory) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.url.path).sorted()
    }

    /// Sequential requests reuse pooled connections. Other tests share the engine's pool and the
    /// server, so a request may pick up any idle connection: count ports, not match one.
    @Test func connectionsAreReused() async throws {
        var ports = Set<JSON>()
        for _ in 0..<6 {
            ports.insert(try await client.send(HTTPRequest(url: server.url("/echo"))).json()["client_port"] ?? .null)
        }
        #expect(ports.count < 6, "every request opened a new connection")
    }

    @Test func largeDownloadStreamsToDiskWithProgress() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let size: Int64 = 200 << 20
        let destination = folder.file("song.bin")
        let calls = Mutex<[(Int64, Int64?)]>([])
        let start = ContinuousClock.now
        let response = try await client.download(
            HTTPRequest(url: server.url("/bytes/\(size)"), timeout: .seconds(120)), to: destination, maxBytes: size
        ) { received, expected in
            calls.withLock { $0.append((received, expected)) }
        }
        let elapsed = ContinuousClock.now - start
        print("HTTP: 200 MiB download in \(elapsed) (\(Int(Double(size >> 20) / elapsed.seconds)) MiB/s)")
        #expect(response.status == 200)
        #expect(response.body.isEmpty)
        #expect(FileStatus(destination)?.size == size)
        #expect(try contents(of: folder) == ["song.bin"])
        #expect(try SHA256.hexOfFile(at: destination) == response.header("x-content-sha256"))

        let progress = calls.withLock { $0 }
        #expect(progress.last?.0 == size)
        #expect(progress.allSatisfy { $0.1 == size })
        #expect(zip(progress, progress.dropFirst()).allSatisfy { $0.0 <= $1.0 })
        #expect(Double(progress.count) <= elapsed.seconds * 10 + 3)
    }

    @Test func chunkedDownloadWithoutLength() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let destination = folder.file("stream.bin")
        let last = Mutex<(Int64, Int64?)?>(nil)
        _ = try await client.download(HTTPRequest(url: server.url("/stream/3000000")), to: destination, maxBytes: nil) { received, expected in
            last.withLock { $0 = (received, expected) }
        }
        #expect(FileStatus(destination)?.size == 3_000_000)
        #expect(last.withLock { $0?.0 } == 3_000_000)
        #expect(last.withLock { $0?.1 } == nil)
    }

    @Test func downloadReplacesAnExistingFile() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let destination = folder.file("a.bin")
        try Data("old".utf8).write(to: destination)
        _ = try await client.download(HTTPRequest(url: server.url("/bytes/1000")), to: destination, maxBytes: nil)
        #expect(FileStatus(destination)?.size == 1000)
    }

    @Test(arguments: ["/bytes/5000000", "/stream/5000000"])
    func downloadOverTheCapLeavesNoFile(path: String) async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let error = await HTTPTesting.expectHTTPError {
            _ = try await client.download(HTTPRequest(url: server.url(path)), to: folder.file("big.bin"), maxBytes: 1_000_000)
        }
        guard case .tooLarge(_, let limit) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(limit == 1_000_000)
        #expect(try contents(of: folder).isEmpty)
    }

    @Test func truncatedDownloadFailsAndLeavesNoFile() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let error = await HTTPTesting.expectHTTPError {
            _ = try await client.download(HTTPRequest(url: server.url("/truncated/4000000")), to: folder.file("t.bin"), maxBytes: nil)
        }
        guard case .sendFailed = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(try contents(of: folder).isEmpty)
    }

    @Test func errorStatusDownloadLeavesNoFile() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let error = await HTTPTesting.expectHTTPError {
            _ = try await client.download(HTTPRequest(url: server.url("/status/404")), to: folder.file("x.bin"), maxBytes: nil)
        }
        guard case .status(let code, _, let body) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(code == 404)
        #expect(body.contains("\"status\": 404"))
        #expect(try contents(of: folder).isEmpty)
    }

    @Test func cancelledDownloadRemovesItsTempFile() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let started = Mutex(false)
        let task = Task {
            try await client.download(HTTPRequest(url: server.url("/drip/2000000/10")), to: folder.file("d.bin"), maxBytes: nil) { _, _ in
                started.withLock { $0 = true }
            }
        }
        _ = try await ProcessTable.waitFor { started.withLock { $0 } ? true : nil }
        #expect(try contents(of: folder).count == 1)  // the temp file, while streaming
        let cancelled = ContinuousClock.now
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(ContinuousClock.now - cancelled < .seconds(1))
        #expect(try contents(of: folder).isEmpty)
    }

    @Test func downloadIntoAMissingFolderIsAFileError() async throws {
        let error = await HTTPTesting.expectHTTPError {
            _ = try await client.download(HTTPRequest(url: server.url("/bytes/10")), to: URL(fileURLWithPath: "/nonexistent-farm/x.bin"), maxBytes: nil)
        }
        guard case .file(let path, _) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(path == "/nonexistent-farm/x.bin")
    }

    @Test func multipartUploadStreamsALargeFile() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let size: Int64 = 100 << 20
        let file = folder.file("voice.wav")
        let source = try await client.download(HTTPRequest(url: server.url("/bytes/\(size)")), to: file, maxBytes: nil)
        let digest = try #require(source.header("x-content-sha256"))

        let start = ContinuousClock.now
        let request = HTTPRequest(
            method: "POST", url: server.url("/upload"),
            headers: [(name: "Authorization", value: "Bearer \(HTTPTesting.secretToken)")],
            body: .multipart([
                MultipartPart(name: "type", value: "audio"),
                MultipartPart(name: "content", file: file, filename: "voice.wav", contentType: "audio/wav"),
                MultipartPart(name: "note", value: "ünïcode ✓"),
            ]),
            timeout: .seconds(120))
        let response = try await client.send(request)
        let elapsed = ContinuousClock.now - start
        print("HTTP: \(size >> 20) MiB multipart upload in \(elapsed)")
        #expect(response.status == 200)
        let json = try response.json()
        #expect(json["fields"] == ["type": "audio", "note": "ünïcode ✓"])
        let part = try #require(json["files"]?.arrayValue?.first)
        #expect(part["name"] == "content")
        #expect(part["filename"] == "voice.wav")
        #expect(part["content_type"] == "audio/wav")
        #expect(part["size"]?.intValue == Int(size))
        #expect(part["sha256"]?.stringValue == digest)
    }

    /// Memory does not grow with the file: a 200 MiB download and a 200 MiB upload, each in a
    /// process of its own (`farm-transfer-probe`) so that no other test's allocations count,
    /// take less than a tenth of the file in resident memory on top of what the process held.
    @Test func transfersTakeMemoryIndependentOfTheFileSize() async throws {
        let probe = try #require(HTTPTesting.transferProbe, "farm-transfer-probe is not built next to the tests")
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let size: Int64 = 200 << 20
        let file = folder.file("song.bin")

        let download = try await HTTPTesting.runProbe(probe, ["download", server.url("/bytes/\(size)").absoluteString, file.path])
        #expect(download["status"]?.intValue == 200)
        #expect(FileStatus(file)?.size == size)
        let upload = try await HTTPTesting.runProbe(probe, ["upload", server.url("/upload").absoluteString, file.path])
        #expect(upload["status"]?.intValue == 200)
        let received = try JSON.parse(upload["body"]?.stringValue ?? "", source: "/upload response")
        #expect(received["files"]?.arrayValue?.first?["size"]?.intValue == Int(size))

        for (name, report) in [("download", download), ("upload", upload)] {
            let growth = Int64(report["resident_peak"]?.intValue ?? .max) - Int64(report["resident_before"]?.intValue ?? 0)
            print("HTTP: 200 MiB \(name) in a process of its own, resident growth \(growth >> 10) KiB")
            #expect(growth < size / 10, "the \(name) grew resident memory by \(growth >> 20) MiB")
        }
    }

    @Test func fileBodyStreamsWithContentLength() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let file = folder.file("body.bin")
        let source = try await client.download(HTTPRequest(url: server.url("/bytes/3000000")), to: file, maxBytes: nil)
        let echo = try await client.send(HTTPRequest(method: "PUT", url: server.url("/echo"), body: .file(file, contentType: "audio/mpeg"))).json()
        #expect(echo["method"] == "PUT")
        #expect(echo["headers"]?["Content-Length"] == "3000000")
        #expect(echo["headers"]?["Content-Type"] == "audio/mpeg")
        #expect(echo["body_sha256"]?.stringValue == source.header("x-content-sha256"))
    }

    @Test func missingUploadFileIsAFileError() async throws {
        let missing = URL(fileURLWithPath: "/nonexistent-farm/voice.wav")
        for body in [HTTPBody.file(missing, contentType: "audio/wav"), .multipart([MultipartPart(name: "f", file: missing, filename: "v.wav", contentType: "audio/wav")])] {
            let error = await HTTPTesting.expectHTTPError {
                _ = try await client.send(HTTPRequest(method: "POST", url: server.url("/upload"), body: body))
            }
            guard case .file(let path, _) = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(path == missing.path)
        }
    }
}
