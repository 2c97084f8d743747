import ArgumentParser
import FarmKit
import Foundation

/// `farm render --server URL`: submits the render to a running `farm serve` (uploading a local
/// song), follows its events, and downloads the finished video.
struct RemoteRender {
    let server: URL
    let http = HTTPClient()

    init(server text: String) throws {
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
            throw UsageError("--server \(text) is not an http(s) address", hint: "give the address farm serve printed, e.g. http://127.0.0.1:8765/")
        }
        server = url
    }

    /// The studio token carried in the printed address (`?token=…`), if any.
    private var headers: [(name: String, value: String)] {
        var headers = [(name: "X-Farm-Studio", value: "1")]
        let token = URLComponents(url: server, resolvingAgainstBaseURL: false)?.queryItems?.first { $0.name == "token" }?.value
        if let token { headers.append((name: "Authorization", value: "Bearer \(token)")) }
        return headers
    }

    private func url(_ path: String) -> URL {
        var components = URLComponents(url: server, resolvingAgainstBaseURL: false)!
        components.query = nil
        components.path = ""
        return URL(string: components.string! + path)!
    }

    /// Sends a request and returns the JSON answer; an error answer becomes the server's error and hint.
    private func call(_ method: String, _ path: String, body: HTTPBody = .none) async throws -> JSON {
        var request = HTTPRequest(method: method, url: url(path), headers: headers, body: body, timeout: .seconds(600))
        request.mayRepeat = method == "GET"
        let response: HTTPResponse
        do {
            response = try await http.send(request)
        } catch let error as HTTPError {
            throw UsageError("cannot reach farm serve at \(url("/")): \(error)", hint: "start it with farm serve, or check --server")
        }
        let json = try? response.json()
        guard response.isSuccess, let json else {
            throw UsageError(json?["error"]?.stringValue ?? "farm serve answered \(response.status) to \(method) \(path)",
                             hint: json?["hint"]?.stringValue)
        }
        return json
    }

    /// Runs `request` (its song, clip, refresh and settings) on the server; prints events (`--json`: the same lines as a local render)
    /// and writes the video to `request.output` (default `<run>.mp4`). Throws the exit code.
    func perform(_ request: RenderRequest, json: Bool) async throws {
        var submission = JSONObject([("profile", .string(request.profile)), ("settings", .array(request.settings.map(JSON.string)))])
        submission["subject"] = request.subject.map(JSON.string)
        submission["start"] = request.clip.start.map(JSON.double)
        submission["end"] = request.clip.end.map(JSON.double)
        submission["refresh"] = request.refresh ? .bool(true) : nil
        guard let song = request.song else { throw UsageError("a render on a server needs --song", hint: "give --song FILE or a link") }
        if song.hasPrefix("http://") || song.hasPrefix("https://") {
            submission["link"] = .string(song)
        } else {
            let file = URL(fileURLWithPath: song)
            guard FileManager.default.isReadableFile(atPath: file.path) else {
                throw UsageError("cannot read the song \(song)", hint: "check the path")
            }
            let name = file.lastPathComponent.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? "song"
            let upload = try await call("POST", "/api/uploads?name=\(name)", body: .file(file, contentType: "application/octet-stream"))
            submission["upload"] = upload["upload"]
            submission["name"] = .string(file.lastPathComponent)
        }
        let entry = try await call("POST", "/api/renders", body: .json(.object(submission)))
        guard let id = entry["id"]?.stringValue else { throw UsageError("farm serve did not answer with a render id", hint: nil) }
        if !json { Console.printNote("queued as render \(id) on \(url("/"))") }

        let http = http, headers = headers, cancelURL = url("/api/renders/\(id)/cancel")
        let interrupt = InterruptHandler {
            Task {
                var cancel = HTTPRequest(method: "POST", url: cancelURL, headers: headers)
                cancel.mayRepeat = false
                _ = try? await http.send(cancel)
            }
        }
        defer { interrupt.stop() }
        var next = 0
        var finished: JSON?
        while finished == nil {
            let page = try await call("GET", "/api/renders/\(id)/events?from=\(next)")
            for event in page["events"]?.arrayValue ?? [] {
                if json { Console.writeOutput(event.compactString + "\n") } else { Self.describe(event) }
                if event["event"] == "finished" { finished = event }
            }
            next = page["next"]?.intValue ?? next
            if finished == nil {
                guard page["done"] != .bool(true) else { break }
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        let code = Int32(finished?["exit_code"]?.intValue ?? Int(ExitStatus.stageFailed))
        guard code == ExitStatus.success, let run = finished?["run"]?.stringValue else {
            if !json, let error = finished?["error"]?.stringValue { Console.printError(error, hint: finished?["hint"]?.stringValue) }
            throw ArgumentParser.ExitCode(code)
        }
        let destination = URL(fileURLWithPath: request.output ?? "\(run).mp4")
        _ = try await http.download(HTTPRequest(url: url("/api/runs/\(run)/video"), headers: headers, timeout: .seconds(600)),
                                    to: destination, maxBytes: nil)
        if !json { Console.writeOutput(destination.path + "\n") }
    }

    /// One line per stage change, as a local render prints without a terminal.
    private static func describe(_ event: JSON) {
        guard event["event"] == "stage", let stage = event["stage"]?.stringValue, let status = event["status"]?.stringValue else { return }
        var line = "\(stage): \(status)"
        if let seconds = event["seconds"]?.doubleValue, status != "running" { line += " (\(Console.duration(seconds)))" }
        if let error = event["error"]?.stringValue { line += ": \(error)" }
        Console.writeError(line + "\n")
    }
}
