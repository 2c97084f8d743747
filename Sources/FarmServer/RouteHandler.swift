import FarmKit
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The endpoints, over the same services as the CLI.
struct RouteHandler {
    let responder: StudioResponder
    let request: Request
    let context: BasicRequestContext

    var store: Store { responder.store }
    var service: RenderService { responder.service }

    func handle(_ route: Route) async throws -> Response {
        switch route {
        case .page: return Reply.text(StudioPage.html, contentType: "text/html; charset=utf-8")
        case .asset(let name):
            let asset = StudioPage.assets[name]!
            return Reply.text(asset.text, contentType: asset.contentType)
        case .openAPI: return Reply.text(OpenAPIDocument.json, contentType: "application/json")
        case .profiles:
            let library = service.profiles
            let entries = try await blocking { library.entries() }
            return Reply.json(.array(entries.map { entry in
                var object = JSONObject([("name", .string(entry.name))])
                object["description"] = entry.description.map(JSON.string) ?? .null
                object["extends"] = entry.extends.map(JSON.string) ?? .null
                return .object(object)
            }))
        case .subjects:
            let catalog = SubjectCatalog(home: service.home)
            let subjects = try await blocking { try catalog.names().map { try catalog.subject(named: $0) } }
            return Reply.json(.array(subjects.map { subject in
                var object = JSONObject([("name", .string(subject.name)), ("trigger", .string(subject.trigger))])
                object["image_model"] = subject.imageModel.map(JSON.string) ?? .null
                object["voice_model"] = subject.voiceModel.map(JSON.string) ?? .null
                return .object(object)
            }))
        case .providers:
            return Reply.json(.array(service.registry.providers.sorted { $0.name < $1.name }.map { provider in
                let stages: [JSON] = provider.stages().sorted { $0.id.name < $1.id.name }.map { stage in
                    .object(JSONObject([
                        ("id", .string(stage.id.description)), ("summary", .string(stage.summary)),
                        ("deterministic", .bool(stage.isDeterministic)),
                        ("inputs", .array(stage.inputs.map { ["name": .string($0.name), "kind": .string($0.kind.rawValue)] })),
                        ("outputs", .array(stage.outputs.map { ["name": .string($0.name), "kind": .string($0.kind.rawValue)] })),
                    ]))
                }
                return .object(JSONObject([("name", .string(provider.name)), ("summary", .string(provider.summary)),
                                           ("stages", .array(stages))]))
            }))
        case .uploads: return try await upload()
        case .renders:
            if request.method == .post { return try await submit() }
            let entries = try await store.queueEntries()
            return Reply.json(.array(entries.map(Self.json)))
        case .render(let id): return Reply.json(Self.json(try await entry(id)))
        case .renderEvents(let id): return try await events(id)
        case .renderCancel(let id):
            let found = try await entry(id)
            guard try await responder.queue.cancel(id) else {
                throw StudioError(.conflict, "render \(id) already ended (\(found.state.rawValue))",
                                  hint: "only waiting or running renders can be cancelled")
            }
            return Reply.json(Self.json(try await entry(id)), status: .accepted)
        case .runs:
            let limit = try request.uri.queryParameters["limit"].map { text -> Int in
                guard let value = Int(text), (1...500).contains(value) else {
                    throw StudioError(.badRequest, "limit \(text) is not a number from 1 to 500", hint: "use ?limit=50")
                }
                return value
            } ?? 50
            return Reply.json(.array(try await store.runs(limit: limit).map(Self.json)))
        case .run(let id):
            let (run, records) = try await runRecord(id)
            var object = Self.json(run).objectValue!
            var entries: [JSON] = []
            for stage in RunHistory(run: run, records: records).stages {
                let status = stage.status(in: run)
                var entry = JSONObject([("stage", .string(stage.name)), ("implementation", .string(stage.implementation)),
                                        ("provider", .string(stage.provider)), ("status", .string(status.rawValue)),
                                        ("cached", .bool(status == .cached))])
                entry["seconds"] = stage.record?.seconds.map(JSON.double) ?? .null
                entry["error"] = stage.record?.error.map(JSON.string) ?? .null
                entry["depends_on"] = .array(stage.dependencies.map(JSON.string))
                entry["chunks"] = stage.record?.metadata?["chunks"] ?? .null
                entry["chunks_cached"] = stage.record?.metadata?["chunks_cached"] ?? .null
                var outputs: [JSON] = []
                if let record = stage.record, let key = record.cacheKey, status.hasOutputs, let result = try await store.cachedResult(forKey: key) {
                    for (port, artifact) in result.outputs.sorted(by: { $0.key < $1.key }) {
                        outputs.append(["port": .string(port), "kind": .string(artifact.kind.rawValue),
                                        "url": .string("/api/runs/\(run.id)/stages/\(stage.name)/outputs/\(port)")])
                    }
                }
                entry["outputs"] = .array(outputs)
                entries.append(.object(entry))
            }
            object["stages"] = .array(entries)
            return Reply.json(.object(object))
        case .runVideo(let id):
            let (run, _) = try await runRecord(id)
            guard let digest = run.outputDigest, let artifact = try await store.artifact(digest: digest) else {
                throw StudioError(.notFound, "run \(id) has no video (\(run.status.rawValue))", hint: "a run has a video once it succeeded")
            }
            return try await serve(artifact)
        case .runStill(let id):
            let (_, stages) = try await runRecord(id)
            for stage in stages where stage.status.hasOutputs {
                guard let key = stage.cacheKey, let result = try await store.cachedResult(forKey: key) else { continue }
                if let image = result.outputs.values.first(where: { $0.kind == .image }) { return try await serve(image) }
            }
            throw StudioError(.notFound, "run \(id) has no still yet", hint: "the still appears once the image stage finished")
        case .stageOutput(let id, let name, let port):
            let (_, stages) = try await runRecord(id)
            guard let stage = stages.first(where: { $0.stage == name }) else {
                throw StudioError(.notFound, "run \(id) has no stage \(name)", hint: "GET /api/runs/\(id) lists its stages")
            }
            guard stage.status.hasOutputs, let key = stage.cacheKey, let result = try await store.cachedResult(forKey: key),
                  let artifact = result.outputs[port]
            else {
                throw StudioError(.notFound, "stage \(name) of run \(id) has no output \(port) (\(stage.status.rawValue))",
                                  hint: "GET /api/runs/\(id) lists each stage's outputs")
            }
            return try await serve(artifact)
        }
    }

    // MARK: - Renders

    private func entry(_ id: String) async throws -> QueueEntry {
        guard let entry = try await store.queueEntry(id: id) else {
            throw StudioError(.notFound, "no render \(id)", hint: "GET /api/renders lists them")
        }
        return entry
    }

    /// Checks the request with the same `plan` as `farm render --dry-run`, then queues it.
    private func submit() async throws -> Response {
        let body = try await readJSON(limit: 64 * 1024)
        guard let fields = body.objectValue else {
            throw StudioError(.badRequest, "a render request must be a JSON object", hint: #"send {"profile": "offline", "upload": ID}"#)
        }
        guard let profile = fields["profile"]?.stringValue, !profile.isEmpty else {
            throw StudioError(.badRequest, "the render request has no profile", hint: "add \"profile\": a name from GET /api/profiles")
        }
        guard profile.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw StudioError(.badRequest, "\"\(profile)\" is not a profile name", hint: "use a name from GET /api/profiles")
        }
        let subject = fields["subject"]?.stringValue
        let settings = try (fields["settings"]?.arrayValue ?? []).map { value -> String in
            guard let text = value.stringValue else {
                throw StudioError(.badRequest, "settings must be strings", hint: "write each as \"stage.param=value\"")
            }
            return text
        }
        let song: String
        let songName: String
        switch (fields["upload"]?.stringValue, fields["link"]?.stringValue) {
        case (let upload?, nil):
            song = try await uploadedFile(upload).path
            songName = fields["name"]?.stringValue ?? upload
        case (nil, let link?):
            guard let url = URL(string: link), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                throw StudioError(.badRequest, "\"\(link)\" is not an http(s) link", hint: "paste a song link starting with https://")
            }
            song = link
            songName = link
        default:
            throw StudioError(.badRequest, "a render needs exactly one song: \"upload\" or \"link\"",
                              hint: "upload a file with POST /api/uploads and pass its id as \"upload\", or pass a \"link\"")
        }
        let clip = try Self.clip(fields)
        let refresh = try fields["refresh"].map { value -> Bool in
            guard let flag = value.boolValue else {
                throw StudioError(.badRequest, "refresh must be true or false", hint: "send \"refresh\": true to fetch a song link again")
            }
            return flag
        } ?? false
        let renderRequest = RenderRequest(profile: profile, subject: subject, song: song, clip: clip, refresh: refresh, settings: settings)
        let service = service
        _ = try await blocking { try service.plan(renderRequest) }
        var stored = JSONObject([("profile", .string(profile)), ("song", .string(song)), ("name", .string(songName)),
                                 ("settings", .array(settings.map(JSON.string)))])
        stored["subject"] = subject.map(JSON.string)
        stored["start"] = clip.start.map(JSON.double)
        stored["end"] = clip.end.map(JSON.double)
        stored["refresh"] = refresh ? .bool(true) : nil
        let entry = try await responder.queue.submit(.object(stored))
        var response = Reply.json(Self.json(entry), status: .accepted)
        response.headers[.location] = "/api/renders/\(entry.id)"
        return response
    }

    /// The part of the song a render request asks for: `start` and `end`, or `clip` ("0:30-1:45"),
    /// each a time as `farm render --start/--end/--clip` reads it (seconds as a number or a string,
    /// `M:SS`, `H:MM:SS`).
    static func clip(_ fields: JSONObject) throws -> SongClip {
        func text(_ name: String) throws -> String? {
            guard let value = fields[name], value != .null else { return nil }
            if let string = value.stringValue { return string }
            if let number = value.doubleValue, number.isFinite { return "\(number)" }
            throw StudioError(.badRequest, "\(name) must be a time", hint: "write seconds (90), M:SS (1:30) or H:MM:SS (1:02:03)")
        }
        do {
            return try SongClip(start: text("start"), end: text("end"), clip: text("clip"))
        } catch let error as UsageError {
            // SongClip names the command-line flags; the API's fields have the same names.
            func fields(_ text: String) -> String { text.replacingOccurrences(of: "--", with: "") }
            throw StudioError(.badRequest, fields(error.message), hint: error.hint.map(fields))
        }
    }

    /// Server-sent events: every event of the render so far, then live ones, as `farm render --json`
    /// prints them. Renders that ended before this server started (or long ago) answer with their
    /// events rebuilt from the store.
    private func events(_ id: String) async throws -> Response {
        let found = try await entry(id)
        let log = try await responder.queue.log(for: id)
        let stored = log == nil ? try await storedEvents(found) : []
        if let from = request.uri.queryParameters["from"] {
            guard let start = Int(from), start >= 0 else {
                throw StudioError(.badRequest, "from=\(from) is not an event index", hint: "use ?from=0, then the \"next\" of the last answer")
            }
            let (events, closed) = log?.events(from: start) ?? (Array(stored.dropFirst(start)), true)
            return Reply.json(["events": .array(events), "next": .integer(Int64(start + events.count)), "done": .bool(closed)])
        }
        let stream: AsyncStream<JSON>
        if let log {
            stream = log.subscribe()
        } else {
            stream = AsyncStream { continuation in
                for event in stored { continuation.yield(event) }
                continuation.finish()
            }
        }
        let body = ResponseBody { writer in
            var index = 0
            for await event in stream {
                try await writer.write(ByteBuffer(string: "id: \(index)\ndata: \(event.compactString)\n\n"))
                index += 1
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"], body: body)
    }

    /// The events of a render whose live ones are not kept, from its queue entry and run record.
    private func storedEvents(_ entry: QueueEntry) async throws -> [JSON] {
        var history: RunHistory?
        if let runID = entry.runID, let (run, records) = try await store.run(id: runID), run.id == runID {
            history = RunHistory(run: run, records: records)
        }
        return RunHistory.events(of: entry, run: history)
    }

    private func readJSON(limit: Int) async throws -> JSON {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw StudioError(.contentTooLarge, "the request body is larger than \(limit) bytes", hint: "send a small JSON object")
        }
        do {
            return try JSON.parse(String(buffer: buffer), source: "request body")
        } catch {
            throw StudioError(.badRequest, "the request body is not JSON: \(error)", hint: "send a JSON object")
        }
    }

    // MARK: - Runs

    private func runRecord(_ id: String) async throws -> (RunRecord, [StageRunRecord]) {
        guard let (run, stages) = try await store.run(id: id), run.id == id else {
            throw StudioError(.notFound, "no run \(id)", hint: "GET /api/runs lists them")
        }
        return (run, stages)
    }

    static func json(_ entry: QueueEntry) -> JSON {
        var object = JSONObject([("id", .string(entry.id)), ("state", .string(entry.state.rawValue)),
                                 ("profile", entry.request["profile"] ?? .null), ("subject", entry.request["subject"] ?? .null),
                                 ("song", entry.request["name"] ?? .null), ("created", .string(timestamp(entry.createdAt)))])
        object["run"] = entry.runID.map(JSON.string) ?? .null
        object["finished"] = entry.finishedAt.map { .string(timestamp($0)) } ?? .null
        object["start"] = entry.request["start"] ?? .null
        object["end"] = entry.request["end"] ?? .null
        object["error"] = entry.error.map(JSON.string) ?? .null
        object["hint"] = entry.hint.map(JSON.string) ?? .null
        return .object(object)
    }

    static func json(_ run: RunRecord) -> JSON {
        var object = JSONObject([("run", .string(run.id)), ("status", .string(run.status.rawValue)), ("profile", .string(run.profile)),
                                 ("subject", .string(run.subject)), ("song", .string(URL(fileURLWithPath: run.song).lastPathComponent)),
                                 ("created", .string(timestamp(run.createdAt)))])
        object["finished"] = run.finishedAt.map { .string(timestamp($0)) } ?? .null
        object["error"] = run.error.map(JSON.string) ?? .null
        object["resumed_from"] = run.resumedFrom.map(JSON.string) ?? .null
        object["video"] = run.outputDigest.map { _ in .string("/api/runs/\(run.id)/video") } ?? .null
        object["still"] = .string("/api/runs/\(run.id)/still")
        return .object(object)
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
