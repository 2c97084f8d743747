import FakeReplicate
import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// Every fault, injected through the Swift API and through the admin endpoint.
extension FakeReplicateSuite {
    @Suite struct FaultTests {
        static let flux = "/models/black-forest-labs/flux-dev-lora/predictions"
        static let body: JSON = ["input": ["prompt": "x", "megapixels": "0.25"]]

        @Test func rateLimitedAndServerErrors() async throws {
            let fake = try await FakeFixture.start()
            defer { Task { await fake.stop() } }
            fake.server.inject(FakeReplicate.Faults(rules: [
                .next(1, .create, .rateLimited(retryAfter: 3)),
                .next(2, .get, .serverError(status: 503)),
                .next(1, .list, .serverError(status: 502)),
                .next(1, .cancel, .serverError(status: 500)),
            ]))
            let throttled = try await fake.api.post(Self.flux, Self.body)
            #expect(throttled.status == 429)
            #expect(throttled.headers["retry-after"] == "3")
            #expect(throttled.text.contains("Request was throttled"))
            #expect(fake.server.ledger().predictions.isEmpty)
            let created = try await fake.api.post(Self.flux, Self.body)
            #expect(created.status == 201)
            let id = try #require(created["id"]?.stringValue)

            #expect(try await fake.api.get("/predictions/\(id)").status == 503)
            #expect(try await fake.api.get("/account").status == 503)
            #expect(try await fake.api.get("/predictions/\(id)").status == 200)
            #expect(try await fake.api.get("/predictions").status == 502)
            #expect(try await fake.api.get("/predictions").status == 200)
            #expect(try await fake.api.post("/predictions/\(id)/cancel").status == 500)
            let ledger = fake.server.ledger()
            #expect(ledger.faults.map(\.fault.name) == ["rate_limited", "server_error", "server_error", "server_error", "server_error"])
            #expect(ledger.faults.first?.route == "POST /v1/models/{owner}/{name}/predictions")
            await fake.stop()
        }

        @Test func droppedConnectionsAndLostResponses() async throws {
            let fake = try await FakeFixture.start()
            defer { Task { await fake.stop() } }
            fake.server.inject(FakeReplicate.Faults(rules: [.next(1, .get, .dropConnection), .next(1, .create, .responseLost)]))
            let dropped = try await fake.api.get("/account")
            #expect(dropped.curlStatus == 52)
            #expect(dropped.status == 0)
            #expect(try await fake.api.get("/account").status == 200)

            // The prediction is created, but the client never hears of it.
            let lost = try await fake.api.post(Self.flux, Self.body)
            #expect(lost.curlStatus == 52)
            let ledger = fake.server.ledger()
            #expect(ledger.predictions.count == 1)
            #expect(ledger.predictions.first?.responseLost == true)
            let id = try #require(ledger.predictions.first?.id)
            #expect(try await fake.api.wait(id)["status"] == "succeeded")
            let listed = try await fake.api.get("/predictions")
            #expect(listed["results"]?.arrayValue?.first?["id"]?.stringValue == id)
            await fake.stop()
        }

        @Test func slowResponsesAndTruncatedDownloads() async throws {
            let fake = try await FakeFixture.start()
            defer { Task { await fake.stop() } }
            let done = try await fake.api.post(Self.flux, Self.body, headers: ["Prefer": "wait"])
            let url = try #require(done["output"]?.arrayValue?.first?.stringValue)
            let whole = try await fake.api.get(url)
            #expect(whole.status == 200)
            #expect(whole.headers["content-type"] == "image/webp")

            fake.server.inject(FakeReplicate.Faults(rules: [.next(1, .delivery, .truncated), .next(1, .get, .slow(seconds: 1))]))
            let cut = try await fake.api.get(url)
            #expect(cut.curlStatus == 18)
            #expect(cut.headers["content-length"] == "\(whole.body.count)")
            #expect(cut.body.count == whole.body.count / 2)
            #expect(try await fake.api.get(url).body == whole.body)

            let slow = try await fake.api.get("/account")
            #expect(slow.status == 200)
            #expect(slow.seconds >= 1)
            await fake.stop()
        }

        @Test func failedPredictions() async throws {
            let fake = try await FakeFixture.start()
            defer { Task { await fake.stop() } }
            fake.server.inject(FakeReplicate.Faults(failures: [
                FakeReplicate.PredictionFailure(model: "black-forest-labs/flux-dev-lora", error: "CUDA out of memory", count: 1),
            ]))
            let failed = try await fake.api.post(Self.flux, Self.body, headers: ["Prefer": "wait"])
            #expect(failed["status"] == "failed")
            #expect(failed["error"] == "CUDA out of memory")
            #expect(failed["output"] == .null)
            #expect(failed["completed_at"]?.stringValue != nil)
            let next = try await fake.api.post(Self.flux, Self.body, headers: ["Prefer": "wait"])
            #expect(next["status"] == "succeeded")

            // Probabilities: 0 never, 1 always.
            fake.server.inject(FakeReplicate.Faults(rules: [
                FakeReplicate.FaultRule(.get, .serverError(status: 500), probability: 0),
                FakeReplicate.FaultRule(.get, .serverError(status: 502), probability: 1, count: 2),
            ]))
            #expect(try await fake.api.get("/account").status == 502)
            #expect(try await fake.api.get("/account").status == 502)
            #expect(try await fake.api.get("/account").status == 200)
            await fake.stop()
        }

        @Test func adminEndpoints() async throws {
            let fake = try await FakeFixture.start()
            defer { Task { await fake.stop() } }
            var admin = fake.api
            admin.token = nil
            let origin = fake.origin
            let set = try await admin.post(
                "\(origin)/_fake/faults",
                ["rules": [["class": "files", "fault": "server_error", "status": 502, "count": 1], ["class": "create", "fault": "slow", "seconds": 0.2, "count": 1]],
                 "failures": [["model": "zsxkib/sonic", "error": "boom", "probability": 0.5]], "seed": 3])
            #expect(set.status == 200)
            #expect(set["rules"]?.arrayValue?.count == 2)
            #expect(try await fake.api.upload(try await fake.song(seconds: 0.5), type: "audio/wav").status == 502)
            let active = try await admin.get("\(origin)/_fake/faults")
            #expect(active["rules"]?.arrayValue?.count == 1)
            #expect(try await admin.post("\(origin)/_fake/faults", ["rules": [["class": "nope", "fault": "slow"]]]).status == 400)
            #expect(try await admin.send("DELETE", "\(origin)/_fake/faults").status == 204)
            #expect(try await admin.get("\(origin)/_fake/faults")["failures"] == [])

            let ledger = try await admin.get("\(origin)/_fake/ledger")
            #expect(ledger.status == 200)
            #expect(ledger["requests"]?["POST /v1/files"] == 1)
            #expect(ledger["faults"]?.arrayValue?.first?["fault"] == "server_error")
            #expect(ledger["predictions"] == [])
            await fake.stop()
        }
    }
}
