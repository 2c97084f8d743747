import FakeReplicate
import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// A "Replicate" that answers badly: HTML, wrong JSON types, huge bodies, predictions that are not
/// predictions, output URLs that try to leave the scratch folder, use another scheme or redirect to
/// another machine. Each is a canned route of the loopback test server; the one real thing borrowed
/// from the fake is the model version (its input schema), so farm gets as far as creating the
/// prediction. farm must end with a clear error (or, where nothing is wrong for the user, succeed),
/// write nothing outside its folders and keep the earlier results in the store intact.
@Suite(.serialized) struct HostileServerTests {
    struct Case: Sendable {
        let name: String
        /// Canned routes of the API server (see Tests/Support/Fixtures/test_http_server.py).
        let routes: @Sendable (_ version: JSON, _ versionID: String, _ files: URL) -> JSON
        let exit: Int32
        let says: [String]
    }

    static let token = "r8_H0st1leT3stT0kenZq4"

    static func prediction(status: String, output: JSON, versionID: String) -> JSON {
        ["id": "hostile0000000000000000001", "model": "farm-test/alice-flux", "version": .string(versionID), "status": .string(status),
         "input": [:], "output": output, "logs": "", "error": .null, "created_at": "2026-12-01T00:00:00.000Z",
         "metrics": ["predict_time": 1.5]]
    }

    static func route(_ body: JSON, status: Int = 200, method: String? = nil) -> JSON {
        var route: JSONObject = ["status": .integer(Int64(status)), "headers": ["Content-Type": "application/json"], "body": .string(body.compactString)]
        if let method { route["method"] = .string(method) }
        return .object(route)
    }

    static let cases: [Case] = [
        Case(name: "model version answered with an HTML page", routes: { _, id, _ in
            ["/v1/models/farm-test/alice-flux/versions/\(id)": ["status": 200, "headers": ["Content-Type": "text/html"], "body": "<html><body>Welcome to the captive portal</body></html>"]]
        }, exit: 1, says: ["model version farm-test/alice-flux", "not JSON"]),
        Case(name: "model version with wrong JSON types", routes: { _, id, _ in
            ["/v1/models/farm-test/alice-flux/versions/\(id)": route(["id": 5, "openapi_schema": "nope"])]
        }, exit: 1, says: ["no readable input schema for farm-test/alice-flux"]),
        Case(name: "a 40 MB answer", routes: { _, id, files in
            ["/v1/models/farm-test/alice-flux/versions/\(id)": ["status": 200, "headers": ["Content-Type": "application/json"], "body_file": .string(files.appendingPathComponent("huge.json").path)]]
        }, exit: 1, says: ["larger than the limit"]),
        Case(name: "a prediction that is not a prediction", routes: { version, id, _ in
            ["/v1/models/farm-test/alice-flux/versions/\(id)": route(version),
             "/v1/predictions": route(["id": ["x"], "status": 5], status: 201, method: "POST")]
        }, exit: 1, says: ["not a prediction"]),
        Case(name: "a prediction with an unknown status", routes: { version, id, _ in
            ["/v1/models/farm-test/alice-flux/versions/\(id)": route(version),
             "/v1/predictions": route(prediction(status: "exploded", output: .null, versionID: id), status: 201, method: "POST")]
        }, exit: 1, says: ["unknown status \"exploded\""]),
        Case(name: "an output URL whose name climbs out with ../", routes: { version, id, _ in
            ["/v1/models/farm-test/alice-flux/versions/\(id)": route(version),
             "/v1/predictions": route(prediction(status: "succeeded", output: ["OUTPUTS/out/..%2F..%2F..%2Fescape.png"], versionID: id), status: 201, method: "POST")]
        }, exit: 0, says: []),
        Case(name: "an output URL whose name is an absolute path", routes: { version, id, _ in
            ["/v1/models/farm-test/alice-flux/versions/\(id)": route(version),
             "/v1/predictions": route(prediction(status: "succeeded", output: ["OUTPUTS/out/%2Ftmp%2Ffarm-hostile-absolute.png"], versionID: id), status: 201, method: "POST")]
        }, exit: 0, says: []),
        Case(name: "an output URL with the file scheme", routes: { version, id, _ in
            ["/v1/models/farm-test/alice-flux/versions/\(id)": route(version),
             "/v1/predictions": route(prediction(status: "succeeded", output: ["file:///etc/passwd"], versionID: id), status: 201, method: "POST")]
        }, exit: 1, says: ["file"]),
        Case(name: "an output URL that redirects to another machine", routes: { version, id, _ in
            ["/v1/models/farm-test/alice-flux/versions/\(id)": route(version),
             "/v1/predictions": route(prediction(status: "succeeded", output: ["OUTPUTS/out/away.png"], versionID: id), status: 201, method: "POST")]
        }, exit: 1, says: ["refused a redirect", "to http://192.0.2.1/x", "from this machine (a loopback address) to another one"]),
        Case(name: "an output that is not an image", routes: { version, id, _ in
            ["/v1/models/farm-test/alice-flux/versions/\(id)": route(version),
             "/v1/predictions": route(prediction(status: "succeeded", output: ["OUTPUTS/out/notes.png"], versionID: id), status: 201, method: "POST")]
        }, exit: 1, says: ["produced output \"image\" that is not an image"]),
    ]

    @Test func hostileAnswersAreRefusedCleanly() async throws {
        // The real version object (with its input schema), from the fake.
        var configuration = FakeReplicate.Configuration()
        configuration.tokens = [Self.token]
        let fake = FakeReplicateServer(configuration: configuration)
        let fakeBase = try await fake.start()
        let versionsURL = fakeBase.appendingPathComponent("models/farm-test/alice-flux")
        let model = try await HTTPClient().send(HTTPRequest(url: versionsURL, headers: [(name: "Authorization", value: "Bearer \(Self.token)")])).json()
        let version = try #require(model["latest_version"])
        let versionID = try #require(version["id"]?.stringValue)
        await fake.stop()

        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let assets = sandbox.root.file("assets")
        try FileManager.default.createDirectory(at: assets, withIntermediateDirectories: true)
        _ = try await FFmpeg().run(["-f", "lavfi", "-i", "color=c=teal:s=64x64", "-frames:v", "1", assets.appendingPathComponent("still.png").path])
        try Data(repeating: 0x20, count: 40 << 20).write(to: assets.appendingPathComponent("huge.json"))
        // The server of the outputs: a real PNG under hostile names, and text posing as a PNG.
        let still = assets.appendingPathComponent("still.png").path
        let outputRoutes: JSON = [
            "/out/..%2F..%2F..%2Fescape.png": ["status": 200, "headers": ["Content-Type": "image/png"], "body_file": .string(still)],
            "/out/%2Ftmp%2Ffarm-hostile-absolute.png": ["status": 200, "headers": ["Content-Type": "image/png"], "body_file": .string(still)],
            // TEST-NET-1: never reached, the address is refused before connecting.
            "/out/away.png": ["status": 302, "headers": ["Location": "http://192.0.2.1/x"], "body": ""],
            "/out/notes.png": ["status": 200, "headers": ["Content-Type": "image/png"], "body": "these are notes, not a picture"],
        ]
        let outputRoutesFile = assets.appendingPathComponent("output-routes.json")
        try Data(outputRoutes.compactString.utf8).write(to: outputRoutesFile)
        let outputs = try await TestHTTPServer.start(routes: outputRoutesFile)
        defer { outputs.stop() }

        // A profile with the one remote stage, and an earlier render whose results must survive.
        let profile = sandbox.file("still.json")
        try Data("""
            { "description": "one FLUX still", "stages": { "portrait": { "use": "replicate.flux-lora", "with": {
                "model": "{{subject.image_model}}", "prompt": "portrait of {{subject.trigger}}", "output_format": "png" } } },
              "output": "portrait.image" }
            """.utf8).write(to: profile)
        let song = try await TestMedia.sineWAV(seconds: 2, to: sandbox.file("song.wav"))
        let earlier = try await sandbox.farm.run(["render", "--profile", "offline", "--song", song.path, "--out", "earlier.mp4"])
        #expect(earlier.status == 0, "stderr: \(earlier.standardError)")
        let added = try await sandbox.farm.run(["subjects", "add", "alice", "--trigger", "TOK", "--lora", "farm-test/alice-flux:\(versionID)"])
        #expect(added.status == 0, "stderr: \(added.standardError)")
        let artifactsBefore = Set(sandbox.homeFiles.filter { $0.hasPrefix("artifacts/") })
        var captured = [earlier.standardOutput, earlier.standardError, added.standardOutput, added.standardError]

        for (index, hostile) in Self.cases.enumerated() {
            var routes = hostile.routes(version, versionID, assets).compactString
            routes = routes.replacingOccurrences(of: "OUTPUTS", with: outputs.baseURL.absoluteString)
            let routesFile = sandbox.root.file("routes-\(index).json")
            try Data(routes.utf8).write(to: routesFile)
            let api = try await TestHTTPServer.start(routes: routesFile)
            defer { api.stop() }
            var environment = sandbox.farm.environment
            environment["REPLICATE_API_TOKEN"] = Self.token
            environment["REPLICATE_BASE_URL"] = api.url("/v1").absoluteString
            let farm = FarmCLI(home: sandbox.farm.home, workingDirectory: sandbox.farm.workingDirectory, environment: environment)
            // A seed per case, so no case finds the journal of an earlier one (a create whose answer
            // was garbage leaves a pending mark, rightly: the prediction may exist).
            let result = try await farm.run(["render", "--profile", profile.path, "--subject", "alice", "--out", "still-\(index).png",
                                             "--set", "portrait.seed=\(index)"], timeout: .seconds(120))
            let output = result.standardOutput + result.standardError
            captured += [result.standardOutput, result.standardError]
            #expect(result.status == hostile.exit, "\(hostile.name): exit \(result.status): \(output)")
            if hostile.exit != 0 {
                #expect(result.standardError.contains("error: ") || result.standardError.contains("failed"), "\(hostile.name): \(output)")
                #expect(result.standardError.contains("hint: "), "\(hostile.name): no hint: \(output)")
            }
            for word in hostile.says {
                #expect(output.contains(word), "\(hostile.name): \"\(word)\" missing from: \(output)")
            }
            for crash in ["Fatal error", "Stack dump", "Backtrace", "💣"] {
                #expect(!output.contains(crash), "\(hostile.name): a crash report: \(output)")
            }
            #expect(sandbox.temporaryFiles.isEmpty, "\(hostile.name): left in tmp: \(sandbox.temporaryFiles)")
            #expect(artifactsBefore.isSubset(of: Set(sandbox.homeFiles)), "\(hostile.name): earlier results were lost")
        }
        let escaped = FileManager.default.enumerator(atPath: sandbox.root.url.path)?
            .compactMap { $0 as? String }.filter { $0.hasSuffix("escape.png") } ?? []
        #expect(escaped.isEmpty, "an output escaped its folder: \(escaped)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.root.url.deletingLastPathComponent().appendingPathComponent("escape.png").path))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/farm-hostile-absolute.png"))
        try await StoreCheck.expectIntact(home: sandbox.farm.home)
        try SecretScan.expectAbsent(Self.token, under: sandbox.root.url, outputs: captured)
        print("reliability: hostile server: \(Self.cases.count) hostile answers, each refused cleanly or made harmless")
    }
}
