@testable import FakeReplicate
import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// Every test of the fake, one at a time: they start servers and ffmpeg processes, and the
/// machine has two cores that the other test targets share.
@Suite(.serialized) enum FakeReplicateSuite {}

/// One HTTP exchange made with the curl CLI (farm's own HTTP client lives elsewhere; curl shows
/// exactly what went over the wire, dropped connections and short bodies included).
struct HTTPReply: Sendable {
    /// curl's exit status: 0, or 52 (empty reply: connection closed), 18 (partial body), 28 (timeout)…
    let curlStatus: Int32
    /// 0 when no response came.
    let status: Int
    /// The last response's headers, names in lowercase.
    let headers: [String: String]
    let body: Data
    let seconds: Double

    var json: JSON { (try? JSON.parse(String(decoding: body, as: UTF8.self), source: "response")) ?? .null }
    var text: String { String(decoding: body, as: UTF8.self) }
    subscript(_ key: String) -> JSON? { json[key] }
}

/// A client of the fake: the API base URL, a token, a folder for bodies.
struct Curl: Sendable {
    let base: URL
    var token: String? = "r8_test_token"
    var scheme = "Bearer"
    let folder: URL

    init(base: URL, folder: URL) {
        self.base = base
        self.folder = folder
    }

    /// `path` is relative to the base URL (`/predictions`) or absolute.
    func send(
        _ method: String, _ path: String, json: JSON? = nil, headers: [String: String] = [:], form: [String] = [],
        maxTime: Int = 120
    ) async throws -> HTTPReply {
        let url = path.hasPrefix("http") ? path : base.absoluteString + path
        let tag = UUID().uuidString
        let bodyFile = folder.appendingPathComponent("body-\(tag)"), headerFile = folder.appendingPathComponent("headers-\(tag)")
        defer {
            try? FileManager.default.removeItem(at: bodyFile)
            try? FileManager.default.removeItem(at: headerFile)
        }
        var arguments = ["-s", "-X", method, "-o", bodyFile.path, "-D", headerFile.path, "-w", "%{http_code} %{time_total}", "--max-time", "\(maxTime)"]
        if let token { arguments += ["-H", "Authorization: \(scheme) \(token)"] }
        for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
        var requestFile: URL?
        if let json {
            let file = folder.appendingPathComponent("request-\(tag).json")
            try Data(json.compactString.utf8).write(to: file)
            requestFile = file
            arguments += ["-H", "Content-Type: application/json", "--data-binary", "@\(file.path)"]
        }
        for field in form { arguments += ["-F", field] }
        defer { if let requestFile { try? FileManager.default.removeItem(at: requestFile) } }
        let output = try await ProcessRunner.run("curl", arguments + [url], timeout: .seconds(maxTime + 10))
        let parts = output.standardOutput.split(separator: " ")
        var headerFields: [String: String] = [:]
        if let text = try? String(contentsOf: headerFile, encoding: .utf8) {
            let blocks = text.components(separatedBy: "\r\n\r\n").filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
            for line in (blocks.last ?? "").components(separatedBy: "\r\n").dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headerFields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return HTTPReply(
            curlStatus: output.status, status: parts.first.flatMap { Int($0) } ?? 0, headers: headerFields,
            body: (try? Data(contentsOf: bodyFile)) ?? Data(), seconds: parts.count > 1 ? Double(parts[1]) ?? 0 : 0)
    }

    func get(_ path: String, headers: [String: String] = [:]) async throws -> HTTPReply {
        try await send("GET", path, headers: headers)
    }

    func post(_ path: String, _ json: JSON? = nil, headers: [String: String] = [:]) async throws -> HTTPReply {
        try await send("POST", path, json: json, headers: headers)
    }

    /// `POST /files` with the file as the `content` part.
    func upload(_ file: URL, type: String) async throws -> HTTPReply {
        try await send("POST", "/files", form: ["content=@\(file.path);type=\(type)"])
    }

    /// Polls a prediction (or training) until it ends.
    func wait(_ id: String, collection: String = "predictions", timeout: Duration = .seconds(120)) async throws -> JSON {
        let deadline = ContinuousClock.now + timeout
        while true {
            let reply = try await get("/\(collection)/\(id)")
            let status = reply["status"]?.stringValue ?? ""
            if ["succeeded", "failed", "canceled", "aborted"].contains(status) { return reply.json }
            if ContinuousClock.now > deadline {
                Issue.record("\(id) still \(status) after \(timeout)")
                return reply.json
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Downloads a URL to a file in the folder.
    func download(_ url: String, as name: String) async throws -> (URL, HTTPReply) {
        let reply = try await send("GET", url)
        let file = folder.appendingPathComponent(name)
        try reply.body.write(to: file)
        return (file, reply)
    }
}

/// A fake server for one test, with a folder; `stop()` ends both.
struct FakeFixture: Sendable {
    let server: FakeReplicateServer
    let api: Curl
    let folder: TemporaryDirectory

    static func start(_ configure: (inout FakeReplicate.Configuration) -> Void = { _ in }) async throws -> FakeFixture {
        var configuration = FakeReplicate.Configuration()
        configuration.latencyScale = 0.01
        configure(&configuration)
        let server = FakeReplicateServer(configuration: configuration)
        let base = try await server.start()
        let folder = try TemporaryDirectory("fake-replicate-test")
        return FakeFixture(server: server, api: Curl(base: base, folder: folder.url), folder: folder)
    }

    func stop() async {
        await server.stop()
        folder.remove()
    }

    var origin: String { api.base.absoluteString.replacingOccurrences(of: "/v1", with: "") }

    /// A test song: a sine tone WAV of `seconds`.
    func song(seconds: Double = 2, name: String = "song.wav") async throws -> URL {
        try await TestMedia.sineWAV(seconds: seconds, to: folder.file(name))
    }

    /// Uploads a file; its `urls.get`.
    func upload(_ file: URL, type: String) async throws -> String {
        let reply = try await api.upload(file, type: type)
        #expect(reply.status == 201, "upload: \(reply.text)")
        return try #require(reply["urls"]?["get"]?.stringValue)
    }

    /// A zip file with `entries` stored, written to the folder.
    func zip(_ name: String, _ entries: [(String, String)]) throws -> URL {
        let file = folder.file(name)
        try Zip.make(entries.map { (name: $0.0, data: Data($0.1.utf8)) }).write(to: file)
        return file
    }

    /// The version id of a model's latest version.
    func latestVersion(_ model: String) async throws -> String {
        let reply = try await api.get("/models/\(model)")
        return try #require(reply["latest_version"]?["id"]?.stringValue)
    }
}
