import FakeReplicate
import FarmKit
import FarmTestSupport
import Foundation
@testable import ReplicateProvider
import Testing

/// The Replicate client against the fake server on 127.0.0.1.
@Suite(.serialized) struct ReplicateClientTests {
    static let token = "r8_test_token"

    private func withFake(
        clockSkew: TimeInterval? = nil, _ body: (FakeReplicateServer, ReplicateClient) async throws -> Void
    ) async throws {
        var configuration = FakeReplicate.Configuration()
        configuration.latencyScale = 0.01
        let server = FakeReplicateServer(configuration: configuration)
        let base = try await server.start()
        var settings = ReplicateConfiguration.fromEnvironment(["REPLICATE_API_TOKEN": Self.token, "REPLICATE_BASE_URL": base.absoluteString])
        if let clockSkew { settings.clockSkew = clockSkew }
        let client = ReplicateClient(configuration: settings)
        do {
            try await body(server, client)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    private let fluxInput: JSONObject = ["prompt": "a test", "num_outputs": 1, "output_format": "png"]
    private let flux = ModelReference("black-forest-labs/flux-dev-lora")!

    @Test func baseURLIsAcceptedWithOrWithoutV1() {
        for text in ["http://127.0.0.1:5", "http://127.0.0.1:5/", "http://127.0.0.1:5/v1", "http://127.0.0.1:5/v1/"] {
            #expect(ReplicateConfiguration.normalizedBase(text).absoluteString == "http://127.0.0.1:5/v1")
        }
    }

    @Test func thePacerAllowsAMinutesBurstThenSpacesRequestsEvenly() {
        let pacer = RequestPacer(perMinute: 600)
        let now = ContinuousClock.now
        let burst = (0..<600).map { _ in pacer.reserve(at: now) }
        #expect(burst.allSatisfy { $0 == .zero }, "a minute's worth goes at once")
        #expect(pacer.reserve(at: now) == .milliseconds(100) + RequestPacer.margin)
        #expect(pacer.reserve(at: now) == .milliseconds(200) + RequestPacer.margin)
        // Idle for a minute: the bucket is full again.
        let later = now + .seconds(61)
        #expect((0..<590).allSatisfy { _ in pacer.reserve(at: later) == .zero })
    }

    @Test func modelReferencesAreParsedStrictly() {
        #expect(ModelReference("a/b")?.version == nil)
        #expect(ModelReference("a/b:\(String(repeating: "f", count: 64))")?.model == "a/b")
        for bad in ["a", "a/b/c", "a/b:123", "/b", "a/b c"] { #expect(ModelReference(bad) == nil, "\(bad)") }
    }

    /// Found by Fuzz/FuzzPredictions: "" (e.g. `--set portrait.model=`) crashed with an index out
    /// of range; empty parts were skipped, so "a//b" and "a/b:" read as "a/b".
    @Test func emptyModelReferencePartsAreRefusedNotSkipped() {
        for bad in ["", ":", "/", "a//b", "/a/b", "a/b/", "a/b:", ":\(String(repeating: "f", count: 64))"] {
            #expect(ModelReference(bad) == nil, "\(bad)")
        }
    }

    @Test func replicateTimestampsParseWithAnyFraction() throws {
        for text in ["2024-04-18T17:21:55Z", "2024-04-18T17:21:55.494Z", "2024-04-18T17:21:55.99397566Z", "2024-04-18T17:21:55.990893084Z"] {
            let date = try #require(Prediction.date(text), "\(text)")
            #expect(abs(date.timeIntervalSince1970 - 1_713_460_915) < 1)
        }
    }

    /// The fraction was read as any number: ".5e400" gave an infinite date, ".5e3" moved it 500 s.
    @Test func timestampFractionsAreDigitsOnly() {
        for text in ["2024-04-18T17:21:55.5e400Z", "2024-04-18T17:21:55.5e3Z", "2024-04-18T17:21:55.Z", "2024-04-18T17:21:55.-5Z"] {
            #expect(Prediction.date(text) == nil, "\(text)")
        }
        #expect(Prediction.date("2024-04-18T19:21:55.25+02:00")?.timeIntervalSince1970 == 1_713_460_915.25)
    }

    @Test func aCreateWhoseResponseIsLostIsFoundInsteadOfCreatedAgain() async throws {
        try await withFake { server, client in
            server.inject(FakeReplicate.Faults(rules: [.next(1, .create, .responseLost)]))
            let prediction = try await client.createPrediction(flux, input: fluxInput)
            let ledger = server.ledger()
            #expect(ledger.predictions.count == 1)
            #expect(ledger.predictions.first?.id == prediction.id)
            #expect(ledger.predictions.first?.responseLost == true)
        }
    }

    /// A lost create (or a run killed while creating) adopts only a prediction made after it was
    /// sent: an older prediction of the same input, say from an earlier render, is not taken for it.
    @Test func anOlderPredictionOfTheSameInputIsNotAdopted() async throws {
        try await withFake(clockSkew: 0.5) { server, client in
            let older = try await client.createPrediction(flux, input: fluxInput)
            #expect(try await client.recentPrediction(of: flux, input: fluxInput)?.id == older.id)
            let later = Date().addingTimeInterval(1)
            #expect(try await client.recentPrediction(of: flux, input: fluxInput, createdAfter: later) == nil)

            server.inject(FakeReplicate.Faults(rules: [.next(1, .create, .responseLost)]))
            try await Task.sleep(for: .seconds(1.5))
            let lost = try await client.createPrediction(flux, input: fluxInput)
            #expect(lost.id != older.id)
            #expect(server.ledger().predictions.map(\.id) == [older.id, lost.id])
        }
    }

    /// After a GET the connection is pooled; a create on it whose response is lost must still be
    /// looked up, not silently re-sent by libcurl.
    @Test func aLostCreateOnAWarmConnectionIsFoundToo() async throws {
        try await withFake { server, client in
            let lora = try await client.runnable(ModelReference("farm-test/alice-flux")!)
            server.inject(FakeReplicate.Faults(rules: [.next(1, .create, .responseLost)]))
            let input: JSONObject = ["prompt": "TOK singing", "seed": 7, "guidance_scale": 3, "lora_scale": 1, "num_outputs": 1, "output_format": "png"]
            _ = try await client.createPrediction(lora, input: input)
            #expect(server.ledger().predictions.count == 1, "a pooled connection let libcurl send the create twice")
        }
    }

    @Test func aRateLimitedCreateIsRetriedAndServerErrorsOnReadsToo() async throws {
        try await withFake { server, client in
            server.inject(FakeReplicate.Faults(rules: [.next(1, .create, .rateLimited(retryAfter: 1)), .next(2, .get, .serverError(status: 503))]))
            let created = try await client.createPrediction(flux, input: fluxInput)
            let done = try await client.wait(for: created) { _ in }
            #expect(done.status == .succeeded)
            #expect(done.outputURLs.count == 1)
            #expect(server.ledger().predictions.count == 1)
        }
    }

    @Test func inputsAreCheckedAgainstTheLiveSchema() async throws {
        try await withFake { _, client in
            await #expect(throws: ReplicateError.self) {
                try await client.validate(["prompt": "x", "num_inference_steps": 500], for: flux)
            }
            do {
                try await client.validate(["prompt": "x", "colour": "red", "output_format": "bmp"], for: flux)
                Issue.record("an invalid input passed")
            } catch let error as ReplicateError {
                #expect(error.message.contains("unknown input \"colour\""))
                #expect(error.message.contains("\"bmp\" is not one of"))
                #expect(error.exitCode == 2)
            }
            try await client.validate(fluxInput, for: flux)
        }
    }

    @Test func communityModelsNamedWithoutVersionRunByTheirLatestVersion() async throws {
        try await withFake { _, client in
            let sonic = try await client.runnable(ModelReference("zsxkib/sonic")!)
            #expect(sonic.version?.count == 64)
            let official = try await client.runnable(flux)
            #expect(official.version == nil)
        }
    }

    @Test func outputNamesCannotLeaveTheScratchFolder() {
        for (url, expected) in [
            ("https://x/a/..%2F..%2Fetc%2Fpasswd", "_.._etc_passwd"), ("https://x/out-0.png", "out-0.png"),
            ("https://x/.hidden", "hidden"), ("https://x/a%2Fb", "a_b"), ("https://x/", "output"),
        ] {
            let name = RemotePrediction.safeName(URL(string: url)!)
            #expect(!name.contains("/") && !name.hasPrefix("."), "\(url) → \(name)")
            #expect(name == expected, "\(url) → \(name)")
        }
    }

    /// U+0D4E (a letter that is prepended to the next character) and "/" form one character whose
    /// first scalar is a letter; the name kept the slash. 100 four-byte letters made 400 bytes,
    /// more than a file name may have.
    @Test func outputNamesJudgeEveryScalarAndFitAFileName() {
        let slash = RemotePrediction.safeName(URL(string: "https://x/a/%E0%B5%8E%2F..%E0%B5%8E%2Fetc")!)
        #expect(!slash.unicodeScalars.contains("/"), "\(slash)")
        #expect(slash == "_.._etc")
        let long = RemotePrediction.safeName(URL(string: "https://x/" + String(repeating: "%F0%A0%80%80", count: 100))!)
        #expect(long.utf8.count == 200)
        #expect(RemotePrediction.safeName(URL(string: "https://x/cafe%CC%81.png")!) == "cafe\u{301}.png")
    }
}
