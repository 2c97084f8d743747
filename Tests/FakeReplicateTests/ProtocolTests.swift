import FakeReplicate
import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// The API's rules: validation, `Prefer: wait`, statuses, cancel, cursors, expiry, limits.
extension FakeReplicateSuite {
    @Suite struct ProtocolTests {
        static let rvc = "0a9c7c558af4c0f20667c1bd1260ce32a2879944a0b9e44e1398660c077b1550"

        @Test func validationErrorsAre422LikeTheRealAPI() async throws {
            let fake = try await FakeFixture.start { $0.outOfCreditTokens = ["r8_broke"] }
            defer { Task { await fake.stop() } }
            let flux = "/models/black-forest-labs/flux-dev-lora/predictions"

            let unknown = try await fake.api.post(flux, ["input": ["prompt": "x", "promt": "typo"]])
            #expect(unknown.status == 422)
            #expect(unknown.headers["content-type"] == "application/problem+json")
            #expect(unknown.text == #"{"title":"Input validation failed","detail":"- input: Additional property promt is not allowed\n","status":422,"invalid_fields":[{"type":"additional_property_not_allowed","field":"input","description":"Additional property promt is not allowed"}]}"#)

            let cases: [(JSON, String, String, String)] = [
                (["aspect_ratio": "1:1"], "required", "input", "prompt is required"),
                (["prompt": 3], "invalid_type", "input.prompt", "Invalid type. Expected: string, given: integer"),
                (["prompt": "x", "num_outputs": 5], "number_lte", "input.num_outputs", "Must be less than or equal to 4"),
                (["prompt": "x", "num_outputs": 1.5], "invalid_type", "input.num_outputs", "Invalid type. Expected: integer, given: number"),
                (["prompt": "x", "guidance": -1], "number_gte", "input.guidance", "Must be greater than or equal to 0"),
                (["prompt": "x", "aspect_ratio": "7:5"], "enum", "input.aspect_ratio",
                 #"input.aspect_ratio must be one of the following: "1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21""#),
                (["prompt": "x", "image": "not a url"], "format", "input.image", "Does not match format 'uri'"),
                (["prompt": "x", "go_fast": "yes"], "invalid_type", "input.go_fast", "Invalid type. Expected: boolean, given: string"),
                (["prompt": "x", "seed": .null], "invalid_type", "input.seed", "Invalid type. Expected: integer, given: null"),
            ]
            for (input, type, field, description) in cases {
                let reply = try await fake.api.post(flux, ["input": input])
                #expect(reply.status == 422, "\(input.compactString)")
                let problem = try #require(reply["invalid_fields"]?.arrayValue?.first)
                #expect(problem["type"]?.stringValue == type, "\(input.compactString)")
                #expect(problem["field"]?.stringValue == field, "\(input.compactString)")
                #expect(problem["description"]?.stringValue == description, "\(input.compactString)")
                #expect(reply["detail"]?.stringValue == "- \(field): \(description)\n")
            }
            // RVC: the volumes have no bounds; the ranged ones do.
            let rvcInput: JSON = ["song_input": "data:audio/wav;base64,AAAA", "instrumental_volume_change": -100, "protect": 0.6]
            let rvcReply = try await fake.api.post("/predictions", ["version": .string(Self.rvc), "input": rvcInput])
            #expect(rvcReply["invalid_fields"]?.arrayValue?.count == 1)
            #expect(rvcReply["invalid_fields"]?.arrayValue?.first?["field"] == "input.protect")

            // The request body itself: additionalProperties false, required members, versions.
            let extra = try await fake.api.post("/predictions", ["version": .string(Self.rvc), "input": [:], "lifetime": "5m"])
            #expect(extra["invalid_fields"]?.arrayValue?.first?["description"] == "Additional property lifetime is not allowed")
            #expect(extra["invalid_fields"]?.arrayValue?.first?["field"] == "(root)")
            let noVersion = try await fake.api.post("/predictions", ["input": [:]])
            #expect(noVersion["invalid_fields"]?.arrayValue?.first?["description"] == "version is required")
            let badVersion = try await fake.api.post("/predictions", ["version": "0123", "input": [:]])
            #expect(badVersion.status == 422)
            #expect(badVersion["title"] == "Invalid version or not permitted")
            let wrongModel = try await fake.api.post("/predictions", ["version": .string("zsxkib/sonic:\(Self.rvc)"), "input": [:]])
            #expect(wrongModel["title"] == "Invalid version or not permitted")
            let communityByName = try await fake.api.post("/predictions", ["version": "zsxkib/sonic", "input": [:]])
            #expect(communityByName.status == 422)
            let officialByName = try await fake.api.post("/predictions", ["version": "black-forest-labs/flux-dev-lora", "input": ["prompt": "x", "megapixels": "0.25"]])
            #expect(officialByName.status == 201)
            #expect(try await fake.api.post("/models/zsxkib/sonic/predictions", ["input": [:]]).status == 404)
            let notJSON = try await fake.api.send("POST", "/predictions", headers: ["Content-Type": "application/json"], form: [])
            #expect(notJSON.status == 400)

            var broke = fake.api
            broke.token = "r8_broke"
            let billing = try await broke.post(flux, ["input": ["prompt": "x"]])
            #expect(billing.status == 402)
            #expect(billing["title"] == "Billing required")
            await fake.stop()
        }

        @Test func preferWaitHoldsThenReturnsWhatIsThere() async throws {
            let fake = try await FakeFixture.start { config in
                config.latencyScale = 1
                config.latencies["black-forest-labs/flux-dev-lora"] = .init(startup: 0.2, base: 5)
            }
            defer { Task { await fake.stop() } }
            let flux = "/models/black-forest-labs/flux-dev-lora/predictions"
            // 28 steps: the model's default, so the prediction takes the scripted 5 s; the wait of
            // 2 s leaves a loaded machine time to start it.
            let body: JSON = ["input": ["prompt": "x", "megapixels": "0.25", "num_inference_steps": 28]]
            let held = try await fake.api.post(flux, body, headers: ["Prefer": "wait=2"])
            #expect(held.status == 201)
            #expect(held.headers["preference-applied"] == "wait=2")
            #expect(held.seconds >= 1.9 && held.seconds < 4)
            #expect(held["status"] == "processing")
            #expect(held["output"] == .null)
            let id = try #require(held["id"]?.stringValue)

            // Logs grow while it runs; then it succeeds with every field of a prediction.
            let early = try await fake.api.get("/predictions/\(id)")["logs"]?.stringValue ?? ""
            var later = early
            for _ in 0..<50 where later.count <= early.count {
                try await Task.sleep(for: .milliseconds(200))
                later = try await fake.api.get("/predictions/\(id)")["logs"]?.stringValue ?? ""
            }
            #expect(later.count > early.count)
            let done = try await fake.api.wait(id)
            #expect(done["status"] == "succeeded")
            for key in ["id", "model", "version", "input", "output", "logs", "error", "status", "created_at", "started_at", "completed_at", "data_removed", "metrics", "urls", "source"] {
                #expect(done[key] != nil, "missing \(key)")
            }
            #expect(id.count == 26 && id.allSatisfy { $0.isLowercase || $0.isNumber })
            #expect(done["urls"]?["get"]?.stringValue == "\(fake.api.base.absoluteString)/predictions/\(id)")
            #expect(done["urls"]?["cancel"]?.stringValue == "\(fake.api.base.absoluteString)/predictions/\(id)/cancel")
            #expect(done["logs"]?.stringValue?.contains("100%|██████████| 28/28") == true)
            let predict = try #require(done["metrics"]?["predict_time"]?.doubleValue), total = try #require(done["metrics"]?["total_time"]?.doubleValue)
            #expect(predict >= 4.9 && total > predict)
            for key in ["created_at", "started_at", "completed_at"] {
                #expect(done[key]?.stringValue?.hasSuffix("Z") == true)
            }

            // Not a valid preference: ignored, no hold.
            let ignored = try await fake.api.post(flux, body, headers: ["Prefer": "wait=0"])
            #expect(ignored["status"] == "starting")
            #expect(ignored.headers["preference-applied"] == nil)
            await fake.stop()
        }

        @Test func cancelQueueingAndDeadlines() async throws {
            let fake = try await FakeFixture.start { config in
                config.latencyScale = 1
                config.concurrencyLimit = 1
                config.latencies["black-forest-labs/flux-dev-lora"] = .init(startup: 0.05, base: 30)
            }
            defer { Task { await fake.stop() } }
            let flux = "/models/black-forest-labs/flux-dev-lora/predictions"
            let body: JSON = ["input": ["prompt": "x", "megapixels": "0.25"]]
            // The queued one's deadline (5 s) comes well before the running one's (10 s), even when
            // a loaded machine makes the second create a few seconds late.
            let first = try #require(try await fake.api.post(flux, body, headers: ["Cancel-After": "10s"])["id"]?.stringValue)
            try await Task.sleep(for: .milliseconds(300))
            let queued = try await fake.api.post(flux, body, headers: ["Cancel-After": "5"])
            #expect(queued["deadline"]?.stringValue != nil)
            let second = try #require(queued["id"]?.stringValue)
            let third = try #require(try await fake.api.post(flux, body)["id"]?.stringValue)
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await fake.api.get("/predictions/\(first)")["status"] == "processing")
            #expect(try await fake.api.get("/predictions/\(second)")["status"] == "starting")
            #expect(try await fake.api.get("/predictions/\(third)")["status"] == "starting")

            // Cancel the queued third: canceled at once, with completed_at and metrics.
            let canceled = try await fake.api.post("/predictions/\(third)/cancel")
            #expect(canceled.status == 200)
            #expect(canceled["status"] == "canceled")
            #expect(canceled["completed_at"]?.stringValue != nil)
            #expect(canceled["metrics"]?["total_time"]?.doubleValue != nil)
            #expect(try await fake.api.post("/predictions/\(third)/cancel")["status"] == "canceled")
            #expect(try await fake.api.post("/predictions/nope/cancel").status == 404)

            // Cancel-After: the queued one is aborted, the running one canceled.
            let aborted = try await fake.api.wait(second, timeout: .seconds(15))
            #expect(aborted["status"] == "aborted")
            #expect(aborted["started_at"] == .null)
            let deadlined = try await fake.api.wait(first, timeout: .seconds(15))
            #expect(deadlined["status"] == "canceled")
            #expect(deadlined["metrics"]?["predict_time"]?.doubleValue != nil)
            #expect(try await fake.api.post(flux, body, headers: ["Cancel-After": "2s"]).status == 400)
            #expect(try await fake.api.post(flux, body, headers: ["Cancel-After": "soon"]).status == 400)
            await fake.stop()
        }

        @Test func listsPageNewestFirstWithAbsoluteCursors() async throws {
            let fake = try await FakeFixture.start { $0.pageSize = 2 }
            defer { Task { await fake.stop() } }
            var ids: [String] = []
            for index in 0..<5 {
                let reply = try await fake.api.post("/models/black-forest-labs/flux-dev-lora/predictions", ["input": ["prompt": .string("p\(index)"), "megapixels": "0.25"]])
                ids.append(try #require(reply["id"]?.stringValue))
            }
            var seen: [String] = []
            var pages = 0
            var next: String? = "/predictions"
            var lastPage = JSON.null
            while let url = next {
                let page = try await fake.api.get(url)
                pages += 1
                seen += page["results"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                next = page["next"]?.stringValue
                if let next { #expect(next.hasPrefix("\(fake.api.base.absoluteString)/predictions?cursor=")) }
                lastPage = page.json
            }
            #expect(pages == 3)
            #expect(seen == ids.reversed())
            // And back again from the last page.
            let previous = try #require(lastPage["previous"]?.stringValue)
            let back = try await fake.api.get(previous)
            #expect(back["results"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [ids[2], ids[1]])
            let first = try await fake.api.get("/predictions")
            #expect(first["previous"] == .null)

            let after = queryValue(try await fake.api.get("/predictions/\(ids[2])")["created_at"]?.stringValue)
            let filtered = try await fake.api.get("/predictions?created_after=\(after)")
            #expect(filtered["results"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [ids[4], ids[3]])
            #expect(try await fake.api.get("/predictions?created_after=yesterday").status == 400)
            await fake.stop()
        }

        @Test func outputsAndUploadsExpire() async throws {
            let fake = try await FakeFixture.start { config in
                config.outputRetention = 1.5
                config.fileRetention = 1.5
            }
            defer { Task { await fake.stop() } }
            let file = try await fake.upload(try await fake.song(seconds: 1), type: "audio/wav")
            let done = try await fake.api.post(
                "/models/black-forest-labs/flux-dev-lora/predictions", ["input": ["prompt": "x", "megapixels": "0.25"]], headers: ["Prefer": "wait"])
            let url = try #require(done["output"]?.arrayValue?.first?.stringValue)
            let id = try #require(done["id"]?.stringValue)
            #expect(try await fake.api.get(url).status == 200)
            #expect(done["data_removed"] == false)
            try await Task.sleep(for: .seconds(2))
            #expect(try await fake.api.get(url).status == 404)
            let removed = try await fake.api.get("/predictions/\(id)")
            #expect(removed["data_removed"] == true)
            #expect(removed["output"] == .null)
            #expect(try await fake.api.get(file).status == 404)
            #expect(fake.server.ledger().files.first?.deleted == true)
            await fake.stop()
        }

        @Test func rateLimitsAreTokenBuckets() async throws {
            let fake = try await FakeFixture.start { config in
                config.rateLimits = .init(createsPerMinute: 2, othersPerMinute: 3)
            }
            defer { Task { await fake.stop() } }
            let flux = "/models/black-forest-labs/flux-dev-lora/predictions"
            let body: JSON = ["input": ["prompt": "x", "megapixels": "0.25"]]
            let first = ContinuousClock.now
            let one = try await fake.api.post(flux, body)
            #expect(one.headers["ratelimit-remaining"] == "1")
            #expect(try await fake.api.post(flux, body).headers["ratelimit-remaining"] == "0")
            let throttled = try await fake.api.post(flux, body)
            #expect(throttled.status == 429)
            // 30 s to the next token, less what has passed since the first create (seconds on a
            // loaded machine).
            let wait = try #require(throttled.headers["retry-after"])
            let passed = Int((ContinuousClock.now - first).components.seconds) + 1
            #expect(Int(wait).map { (30 - passed)...30 ~= $0 } == true, "retry-after \(wait) after \(passed) s")
            #expect(throttled["detail"] == .string("Request was throttled. Your rate limit resets in ~\(wait)s."))
            // Other endpoints have their own bucket.
            #expect(try await fake.api.get("/account").headers["ratelimit-remaining"] == "2")
            _ = try await fake.api.get("/account")
            _ = try await fake.api.get("/account")
            #expect(try await fake.api.get("/account").status == 429)
            #expect(fake.server.ledger().predictions.count == 2)
            await fake.stop()
        }
    }
}

/// A timestamp as a query value.
private func queryValue(_ text: String?) -> String {
    (text ?? "").replacingOccurrences(of: ":", with: "%3A")
}
