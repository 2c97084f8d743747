import FarmKit
import Foundation

/// A failure inside a model, with the error text the prediction ends with.
struct ModelFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// An input file fetched by the fake.
struct ResolvedFile: Sendable {
    let path: URL
    /// The name the model sees (the uploaded file's name, the URL's last segment, …).
    let name: String
}

/// What a model made.
enum Produced: Sendable {
    case none
    case text(String)
    case file(URL, name: String)
    case files([(URL, name: String)])
    /// A training's output: `{"version": "owner/name:id", "weights": URL}`.
    case training(version: String?, weights: (URL, name: String))
}

struct Outcome: Sendable {
    var produced: Produced
    /// Seconds of input audio, for the latency.
    var audioSeconds = 0.0
    /// Steps to show as a progress bar in the logs while the latency runs out.
    var steps = 10
    /// How much work this input is compared with the model's defaults (steps, resolution): scales
    /// the processing latency.
    var work = 1.0
}

/// One run of a model: its input with defaults, a work folder, logging, input fetching.
struct Job: Sendable {
    let engine: Engine
    let id: String
    let kind: FakeReplicate.Ledger.Prediction.Kind
    let model: String
    let destination: String?
    let values: [String: JSON]
    let folder: URL

    func log(_ line: String) { engine.appendLog(id, line) }

    func string(_ name: String) -> String? { values[name]?.stringValue }
    func int(_ name: String) -> Int? { values[name]?.intValue }
    func double(_ name: String) -> Double? { values[name]?.doubleValue }
    func bool(_ name: String) -> Bool? { values[name]?.boolValue }

    /// Fetches the file input `name` (Cog downloads file inputs before `predict` runs).
    func file(_ name: String) throws -> ResolvedFile? {
        guard let reference = string(name) else { return nil }
        do {
            return try engine.fetch(reference, into: folder, withToken: true)
        } catch let failure as ModelFailure {
            throw ModelFailure("Failed to download input \(name) (\(reference)): \(failure.message)")
        }
    }

    /// Fetches a URL the model itself downloads (urllib in the model's code: no token, so Files
    /// API URLs answer 401).
    func download(_ url: String) throws -> ResolvedFile {
        try engine.fetch(url, into: folder, withToken: false)
    }
}

extension Engine {
    /// Runs prediction `id` from `starting` to a terminal status.
    func execute(_ id: String) async {
        guard let record = state.withLock({ $0.predictions[id] }), let version = state.withLock({ $0.versions[record.versionID] }) else { return }
        let latency = configuration.latencies[record.model] ?? configuration.latencies[version.runner.referenceModel] ?? configuration.defaultLatency

        // Booting: `starting`, then a run slot (`starting` while queued).
        try? await Task.sleep(for: scaled(latency.startup))
        state.withLock { $0.queue.append(id) }
        defer {
            let woken = state.withLock { state in
                state.queue.removeAll { $0 == id }
                state.running.remove(id)
                state.tasks.removeValue(forKey: id)
                return state.wakeable()
            }
            for waiter in woken { waiter.resume() }
        }
        if state.withLock({ $0.faults.abort(for: record.model) }) {
            finish(id, status: .aborted, error: nil, output: .null)
            return
        }
        guard await acquireSlot(id) else { return }
        let started = Date()
        let processing = update(id) { record in
            record.status = .processing
            record.startedAt = started
        }
        guard processing else { return }
        let clock = ContinuousClock.now

        let folder = storage.appendingPathComponent("work").appendingPathComponent(id)
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        let schema = record.kind == .training ? (version.trainingInput ?? version.input) : version.input
        let job = Job(
            engine: self, id: id, kind: record.kind, model: record.model, destination: record.destination,
            values: schema.withDefaults(record.input), folder: folder)

        if let failure = state.withLock({ $0.faults.failure(for: record.model) }) {
            job.log("Running prediction...")
            try? await Task.sleep(for: scaled(min(latency.base * 0.2, 2)))
            finish(id, status: .failed, error: failure, output: .null)
            return
        }

        let outcome: Outcome
        do {
            outcome = try await version.runner.run(job)
        } catch is CancellationError {
            return
        } catch let failure as ModelFailure {
            finish(id, status: .failed, error: failure.message, output: .null)
            return
        } catch {
            if Task.isCancelled { return }
            finish(id, status: .failed, error: "\(error)", output: .null)
            return
        }

        // The rest of the scripted latency, with a progress bar in the logs.
        let target = clock + scaled((latency.base + latency.perAudioSecond * outcome.audioSeconds) * outcome.work)
        let steps = max(1, min(outcome.steps, 50))
        var shown = 0
        while ContinuousClock.now < target, !Task.isCancelled {
            let remaining = target - ContinuousClock.now
            let ticks = max(1, min(10, steps - shown))
            try? await Task.sleep(for: min(remaining, remaining / ticks + .milliseconds(1)))
            if shown < steps {
                shown = min(steps, shown + max(1, steps / 10))
                job.log(Self.progressBar(shown, of: steps))
            }
        }
        if Task.isCancelled { return }
        // A model that ran late (a loaded machine made the media slowly) still logs its last step.
        if shown < steps { job.log(Self.progressBar(steps, of: steps)) }

        let output = deliver(outcome.produced, for: id)
        finish(id, status: .succeeded, error: nil, output: output)
    }

    /// Waits (as `starting`) until `id` is first in the queue and a run slot is free; false when
    /// the prediction ended meanwhile (canceled, aborted) or the server stopped.
    private func acquireSlot(_ id: String) async -> Bool {
        enum Turn { case acquired, ended, wait }
        let limit = configuration.concurrencyLimit ?? Int.max
        func turn(_ state: inout State) -> Turn {
            guard !state.stopped, let record = state.predictions[id], record.status == .starting else { return .ended }
            // Past its Cancel-After while queued: it never starts (its timer, however late, aborts it).
            if let deadline = record.deadline, deadline <= Date() { return .ended }
            guard state.queue.first == id, state.running.count < limit else { return .wait }
            state.queue.removeFirst()
            state.running.insert(id)
            return .acquired
        }
        while true {
            switch state.withLock({ turn(&$0) }) {
            case .acquired: return true
            case .ended: return false
            case .wait:
                await withCheckedContinuation { continuation in
                    // Checked again under the lock, so a wake-up between the check and here is not lost.
                    let now = state.withLock { state -> Bool in
                        if state.stopped || state.predictions[id]?.status != .starting
                            || (state.queue.first == id && state.running.count < limit) {
                            return true
                        }
                        state.slotWaiters[id] = continuation
                        return false
                    }
                    if now { continuation.resume() }
                }
            }
        }
    }

    /// Applies `change` unless the prediction already ended (canceled meanwhile); whether it did.
    @discardableResult
    func update(_ id: String, _ change: (inout PredictionRecord) -> Void) -> Bool {
        state.withLock { state in
            guard var record = state.predictions[id], !record.status.isTerminal else { return false }
            change(&record)
            state.predictions[id] = record
            return true
        }
    }

    func appendLog(_ id: String, _ line: String) {
        update(id) { $0.logs += line + "\n" }
    }

    private func finish(_ id: String, status: PredictionStatus, error: String?, output: JSON) {
        let now = Date()
        let ended = update(id) { record in
            record.status = status
            record.error = error
            record.output = output
            record.completedAt = now
            if status == .succeeded { record.deliveries = Self.tokens(in: output) }
        }
        if !ended {
            // Canceled while finishing: the outputs go.
            let doomed = state.withLock { state in
                state.deliveries.values.filter { $0.predictionID == id }.map(\.token).compactMap { state.deliveries.removeValue(forKey: $0)?.path }
            }
            remove(doomed.map { $0.deletingLastPathComponent() })
        }
    }

    /// Moves produced files to delivery URLs; the output JSON.
    private func deliver(_ produced: Produced, for id: String) -> JSON {
        func publish(_ file: URL, name: String) -> JSON {
            let token = Identifier.deliveryToken()
            let folder = storage.appendingPathComponent("delivery").appendingPathComponent(token)
            let path = folder.appendingPathComponent(name.replacingOccurrences(of: "/", with: "_"))
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try FileManager.default.moveItem(at: file, to: path)
            } catch {
                return .null
            }
            let record = DeliveryRecord(token: token, name: name, path: path, predictionID: id)
            state.withLock { $0.deliveries[token] = record }
            return .string(record.url(origin: origin))
        }
        switch produced {
        case .none: return .null
        case .text(let text): return .string(text)
        case .file(let url, let name): return publish(url, name: name)
        case .files(let files): return .array(files.map { publish($0.0, name: $0.name) })
        case .training(let version, let weights):
            return .object(JSONObject([("version", version.map(JSON.string) ?? .null), ("weights", publish(weights.0, name: weights.name))]))
        }
    }

    /// The delivery tokens in an output's URLs.
    private static func tokens(in output: JSON) -> [String] {
        switch output {
        case .string(let text):
            guard let range = text.range(of: "/delivery/") else { return [] }
            return [String(text[range.upperBound...].prefix { $0 != "/" })]
        case .array(let items): return items.flatMap(tokens(in:))
        case .object(let object): return object.flatMap { tokens(in: $0.value) }
        default: return []
        }
    }

    /// A tqdm-style progress line.
    static func progressBar(_ done: Int, of total: Int) -> String {
        let percent = done * 100 / max(1, total)
        let filled = percent / 10
        return String(format: "%3d%%|", percent) + String(repeating: "█", count: filled) + String(repeating: " ", count: 10 - filled)
            + "| \(done)/\(total)"
    }

    // MARK: Fetching inputs

    /// Fetches an input URL: the fake's own uploads (`withToken`: as Replicate resolves its own Files
    /// API URLs for file inputs), delivery URLs and public files, or a data: URI. Every other host
    /// is refused: the fake never reaches out.
    func fetch(_ reference: String, into folder: URL, withToken: Bool) throws -> ResolvedFile {
        if reference.hasPrefix("data:") {
            guard let comma = reference.firstIndex(of: ",") else { throw ModelFailure("invalid data URI") }
            let header = reference[reference.index(reference.startIndex, offsetBy: 5)..<comma]
            let payload = String(reference[reference.index(after: comma)...])
            let isBase64 = header.hasSuffix(";base64")
            let type = String(isBase64 ? header.dropLast(7) : header)
            let data: Data?
            if isBase64 {
                data = Data(base64Encoded: payload.replacingOccurrences(of: "\n", with: ""))
            } else {
                data = payload.removingPercentEncoding.map { Data($0.utf8) }
            }
            guard let data else { throw ModelFailure("invalid data URI") }
            let name = "file.\(fileExtension(forContentType: type.isEmpty ? "application/octet-stream" : type))"
            let path = folder.appendingPathComponent("input-\(UUID().uuidString)-\(name)")
            try data.write(to: path)
            return ResolvedFile(path: path, name: name)
        }
        guard let components = URLComponents(string: reference), let scheme = components.scheme?.lowercased(),
              ["http", "https"].contains(scheme), let host = components.host
        else { throw ModelFailure("unknown url type: '\(reference)'") }
        let ownPort = URLComponents(string: origin)?.port
        guard ["127.0.0.1", "localhost", "::1", "[::1]", configuration.host].contains(host.lowercased()), components.port == ownPort else {
            throw ModelFailure("<urlopen error fake-replicate fetches only its own URLs, not \(host)>")
        }
        let segments = components.percentEncodedPath.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        if !withToken, segments.first == "v1" { throw ModelFailure("HTTP Error 401: Unauthorized") }
        let found: (URL, String)? = state.withLock { state in
            if segments.count == 3, segments[0] == "v1", segments[1] == "files", let file = state.files[segments[2]], !file.deleted {
                return (file.path, file.name)
            }
            if segments.count == 3, segments[0] == "delivery", let delivery = state.deliveries[segments[1]] {
                return (delivery.path, delivery.name)
            }
            if segments.count == 2, segments[0] == "public", let path = state.publicFiles[segments[1]] {
                return (path, segments[1])
            }
            return nil
        }
        guard let (source, name) = found else { throw ModelFailure("HTTP Error 404: Not Found") }
        let path = folder.appendingPathComponent("input-\(UUID().uuidString)-\(name)")
        do {
            try FileManager.default.copyItem(at: source, to: path)
        } catch {
            throw ModelFailure("HTTP Error 404: Not Found")
        }
        return ResolvedFile(path: path, name: name)
    }
}
