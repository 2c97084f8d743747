import FarmKit
import Foundation

/// Runs one prediction for a stage, paying for it at most once.
///
/// The prediction id is written to the stage's journal before waiting (and a "pending" mark before
/// creating, so a crash in between is found by looking the prediction up among the recent ones), so
/// a re-run of the same stage (after a crash, Ctrl-C or a failure further on) re-attaches to a
/// prediction that is still running or has succeeded with outputs not yet expired, instead of
/// creating another. Ctrl-C
/// cancels the remote prediction, unless the command's `InterruptPolicy` says to leave it running. Outputs are downloaded into the scratch folder at once (Replicate
/// deletes them after an hour) under names that cannot leave it.
package struct RemotePrediction {
    let client: ReplicateClient
    let pricing: Pricing

    private static let journalKey = "replicate.prediction"

    /// The finished prediction and its downloaded output files, in output order.
    struct Result {
        let prediction: Prediction
        let files: [URL]

        /// Facts for the stage result: the prediction id, the model's own time and an estimated cost.
        func metadata(pricing: Pricing) -> [String: JSON] {
            var metadata: [String: JSON] = [
                "prediction": .string(prediction.id),
                "model": .string(prediction.model),
            ]
            if let time = prediction.predictTime {
                metadata["predict_time"] = .double(time)
            }
            if let cost = pricing.estimate(model: prediction.model, predictTime: prediction.predictTime) {
                metadata["estimated_cost_usd"] = .double((cost * 10_000).rounded() / 10_000)
            }
            return metadata
        }
    }

    private static let pendingPrefix = "pending:"

    func run(_ model: ModelReference, input: JSONObject, in context: StageContext) async throws -> Result {
        let runnable = try await client.runnable(model)
        if var id = try await context.recall(Self.journalKey) {
            if id.hasPrefix(Self.pendingPrefix) {
                // An earlier run stopped while creating: the prediction may exist without its id.
                // It was made after the mark (allowing for the clocks of this machine and Replicate's
                // to differ), so an older prediction of the same input is not taken for it.
                let marked = Double(id.dropFirst(Self.pendingPrefix.count)).map { Date(timeIntervalSince1970: $0 - client.configuration.clockSkew) }
                id = try await client.recentPrediction(of: runnable, input: input, createdAfter: marked)?.id ?? ""
                if !id.isEmpty { context.log("found prediction \(id), created by an interrupted run") }
            }
            if !id.isEmpty, let result = try await reattach(id, model: model, in: context) {
                return result
            }
        }
        try await client.validate(input, for: model)
        context.progress(nil, "creating a prediction of \(model.model)")
        let markedAt = Date()
        try await context.remember(Self.journalKey, Self.pendingPrefix + String(Int(markedAt.timeIntervalSince1970)))
        let created: Prediction
        do {
            created = try await client.createPrediction(runnable, input: input)
        } catch {
            if Task.isCancelled || error is CancellationError {
                await interruptedWhileCreating(runnable, input: input, markedAt: markedAt, in: context)
            }
            throw error
        }
        try await context.remember(Self.journalKey, created.id)
        context.log("prediction \(created.id) of \(model) created (\(created.status.rawValue))")
        return try await finish(created, in: context)
    }

    /// Ctrl-C came while Replicate held the create request's answer (`Prefer: wait`): the
    /// prediction may be running already without farm knowing its id. Leaving it needs nothing
    /// (the journal's pending mark lets a resumed run find it); cancelling must find it first.
    private func interruptedWhileCreating(_ model: ModelReference, input: JSONObject, markedAt: Date, in context: StageContext) async {
        guard InterruptPolicy.effective == .cancel else {
            context.log("left the prediction of \(model.model) being created running on Replicate")
            return
        }
        // Not part of the cancelled task, so the requests are really sent.
        let client = self.client
        let earliest = markedAt.addingTimeInterval(-client.configuration.clockSkew)
        let cancelled = await Task.detached { () -> String? in
            guard let found = try? await client.recentPrediction(of: model, input: input, createdAfter: earliest) else { return nil }
            await client.cancel(id: found.id)
            return found.id
        }.value
        if let cancelled { context.log("cancelled prediction \(cancelled)") }
    }

    /// Picks up a journalled prediction; nil when a new one must be made.
    private func reattach(_ id: String, model: ModelReference, in context: StageContext) async throws -> Result? {
        let existing: Prediction
        do {
            existing = try await client.prediction(id: id)
        } catch let error as ReplicateError where error.status == 404 {
            try await context.forget(Self.journalKey)
            return nil
        }
        switch existing.status {
        case .starting, .processing:
            context.log("re-attaching to prediction \(id) (\(existing.status.rawValue))")
            return try await finish(existing, in: context)
        case .succeeded where !existing.dataRemoved:
            context.log("re-using the result of prediction \(id)")
            do {
                return try await finish(existing, in: context)
            } catch let error as OutputExpired {
                context.log(error.description)
                try await context.forget(Self.journalKey)
                return nil
            }
        default:
            context.log("prediction \(id) ended \(existing.status.rawValue)\(existing.dataRemoved ? " and its outputs expired" : ""); making a new one")
            try await context.forget(Self.journalKey)
            return nil
        }
    }

    private func finish(_ prediction: Prediction, in context: StageContext) async throws -> Result {
        let done: Prediction
        do {
            done = try await client.wait(for: prediction) { update in
                if let line = update.logTail(1).first { context.progress(nil, String(line.prefix(60))) }
            }
            try Task.checkCancellation()
        } catch {
            if Task.isCancelled || error is CancellationError {
                if InterruptPolicy.effective == .leave {
                    // The journal keeps the id: a resumed run re-attaches to it.
                    context.log("left prediction \(prediction.id) running on Replicate")
                } else {
                    // Not part of the cancelled task, so the request is really sent.
                    let client = self.client
                    await Task.detached { await client.cancel(id: prediction.id) }.value
                    context.log("cancelled prediction \(prediction.id)")
                }
            }
            throw error
        }
        switch done.status {
        case .succeeded:
            break
        case .failed:
            var message = "\(done.model) failed (prediction \(done.id)): \(done.error ?? "no error message")"
            let tail = done.logTail(5)
            if !tail.isEmpty { message += "\nlast log lines:\n" + tail.map { "  \($0)" }.joined(separator: "\n") }
            if let web = done.webURL { message += "\nsee \(web)" }
            throw StageFailure(message, hint: "a re-run tries again; check the stage's inputs if it keeps failing")
        case .canceled:
            // Someone stopped it on purpose (its web page, another client): not retried on its own.
            throw StageFailure("prediction \(done.id) of \(done.model) was canceled on Replicate",
                               hint: "run the same command again to make a new one", mayRetry: false)
        case .aborted:
            throw StageFailure("prediction \(done.id) of \(done.model) was aborted on Replicate",
                               hint: "run the same command again to make a new one")
        case .starting, .processing:
            preconditionFailure("wait returns terminal predictions only")
        }
        for (index, line) in done.logTail(3).enumerated() where index < 3 { context.log(line) }

        let urls = done.outputURLs
        guard !urls.isEmpty, !done.dataRemoved else {
            throw OutputExpired(id: done.id, model: done.model)
        }
        var files: [URL] = []
        for (index, url) in urls.enumerated() {
            let destination = context.scratchFile("\(index)-\(Self.safeName(url))")
            do {
                try await client.download(url, to: destination) { received, expected in
                    guard let expected, expected > 0 else { return }
                    context.progress(Double(received) / Double(expected), "downloading output")
                }
            } catch let error as HTTPError where [403, 404, 410].contains(error.statusCode ?? 0) {
                throw OutputExpired(id: done.id, model: done.model)
            }
            files.append(destination)
        }
        return Result(prediction: done, files: files)
    }

    /// A file name from a server-given URL that cannot escape a folder: the last path component,
    /// percent-decoded, reduced to safe characters, never hidden, at most 100 characters and 200
    /// bytes.
    ///
    /// A character is kept when every scalar in it is a letter, digit or mark (or it is `.`, `_`,
    /// `-`): judging a character by its first scalar let "\u{0D4E}/" (a prepended letter and a
    /// slash form one character) through with its slash.
    package static func safeName(_ url: URL) -> String {
        let component = url.path.hasSuffix("/") ? "" : url.lastPathComponent
        let last = component.removingPercentEncoding ?? component
        var name = ""
        for character in last.prefix(100) {
            let safe = "._-".contains(character) || character.unicodeScalars.allSatisfy { scalar in
                let properties = scalar.properties
                return properties.isAlphabetic || properties.numericType != nil
                    || [.nonspacingMark, .spacingMark, .enclosingMark].contains(properties.generalCategory)
            }
            let kept: Character = safe ? character : "_"
            guard name.utf8.count + kept.utf8.count <= 200 else { break }
            name.append(kept)
        }
        while name.unicodeScalars.first == "." { name.unicodeScalars.removeFirst() }
        return name.isEmpty ? "output" : name
    }
}

/// A prediction's outputs are gone (Replicate removes them an hour after it ends).
struct OutputExpired: FarmError {
    let id: String
    let model: String
    var message: String { "the outputs of prediction \(id) (\(model)) expired before farm could download them" }
    var hint: String? { "run the same command again: farm makes a new prediction for this stage" }
    var exitCode: Int32 { ExitStatus.stageFailed }
}
