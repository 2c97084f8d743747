import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// A fresh FARM_HOME per test and `farm serve` on a free loopback port.
struct Studio {
    let root: TemporaryDirectory
    let farm: FarmCLI
    let http = HTTPClient()

    init() throws {
        root = try TemporaryDirectory("farm-serve")
        let work = root.file("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        farm = FarmCLI(home: root.file("home"), workingDirectory: work)
    }

    func remove() { root.remove() }

    /// Runs `farm serve` (stopped by pid afterwards) around `body`; expects a clean exit.
    func serve<T: Sendable>(_ arguments: [String] = [], _ body: @Sendable (FarmServe.Running) async throws -> T) async throws -> T {
        let (result, status) = try await FarmServe(cli: farm).run(arguments, body)
        #expect(status == 0, "farm serve exited with \(status)")
        return result
    }

    /// The base of every URL: scheme, host and port of the printed address.
    static func base(_ url: URL) -> String { "http://\(url.host!):\(url.port!)" }

    func get(_ server: FarmServe.Running, _ path: String, headers: [(name: String, value: String)] = []) async throws -> HTTPResponse {
        try await http.send(HTTPRequest(url: URL(string: Self.base(server.url) + path)!, headers: headers))
    }

    /// A POST as the studio page sends it (same origin, with the studio header).
    func post(_ server: FarmServe.Running, _ path: String, _ body: HTTPBody = .none,
              headers: [(name: String, value: String)]? = nil) async throws -> HTTPResponse {
        var request = HTTPRequest(method: "POST", url: URL(string: Self.base(server.url) + path)!,
                                  headers: headers ?? [("X-Farm-Studio", "1"), ("Origin", Self.base(server.url))], body: body)
        request.mayRepeat = false
        return try await http.send(request)
    }

    /// Uploads a song; returns the upload's id.
    func upload(_ server: FarmServe.Running, song: URL) async throws -> String {
        let upload = try await post(server, "/api/uploads?name=\(song.lastPathComponent)", .file(song, contentType: "audio/mpeg"))
        #expect(upload.status == 201, "\(String(decoding: upload.body, as: UTF8.self))")
        return try #require(try upload.json()["upload"]?.stringValue)
    }

    /// Uploads a song and submits an offline render of it (with `fields` added to the request);
    /// returns the render's id.
    func submitOfflineRender(_ server: FarmServe.Running, song: URL, _ fields: JSONObject = JSONObject()) async throws -> String {
        let id = try await upload(server, song: song)
        var request = JSONObject([("profile", "offline"), ("upload", .string(id)), ("name", "song.mp3")])
        for (key, value) in fields.dictionary { request[key] = value }
        let render = try await post(server, "/api/renders", .json(.object(request)))
        #expect(render.status == 202, "\(String(decoding: render.body, as: UTF8.self))")
        return try #require(try render.json()["id"]?.stringValue)
    }

    /// The file name of the upload render `id` reads, as the queue in the store recorded it.
    func uploadFile(render id: String) async throws -> String {
        let entries = try await FarmKit.Store(home: farm.home).queueEntries()
        let song = try #require(entries.first { $0.id == id }?.request["song"]?.stringValue)
        return URL(fileURLWithPath: song).lastPathComponent
    }

    /// The render's server-sent events until it finished, parsed.
    func events(_ server: FarmServe.Running, _ id: String) async throws -> [JSONObject] {
        var request = HTTPRequest(url: URL(string: Self.base(server.url) + "/api/renders/\(id)/events")!, timeout: .seconds(240))
        request.maxResponseBytes = 64 << 20
        let response = try await http.send(request)
        #expect(response.header("content-type") == "text/event-stream")
        return try String(decoding: response.body, as: UTF8.self).split(separator: "\n")
            .filter { $0.hasPrefix("data: ") }
            .map { try #require(try JSON.parse(String($0.dropFirst(6)), source: "event").objectValue) }
    }

    /// Polls until render `id` reaches `state`.
    func waitFor(_ server: FarmServe.Running, _ id: String, state: String, timeout: Duration = .seconds(120)) async throws -> JSONObject {
        let deadline = ContinuousClock.now + timeout
        while true {
            let entry = try #require(try await get(server, "/api/renders/\(id)").json().objectValue)
            if entry["state"]?.stringValue == state { return entry }
            guard ContinuousClock.now < deadline else {
                Issue.record("render \(id) never reached \(state): \(JSON.object(entry).compactString)")
                return entry
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}

extension Studio {
    /// Waits until render `id` has started its run (the run is recorded).
    func waitForRun(_ server: FarmServe.Running, _ id: String) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while try await get(server, "/api/renders/\(id)").json()["run"]?.stringValue == nil {
            guard ContinuousClock.now < deadline else {
                Issue.record("render \(id) never started")
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

extension HTTPResponse {
    var errorMessage: String? { (try? json())?["error"]?.stringValue }
    var hint: String? { (try? json())?["hint"]?.stringValue }
}
