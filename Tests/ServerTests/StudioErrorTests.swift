import FarmKit
import FarmTestSupport
import Foundation
import Testing

@Suite(.serialized) struct StudioErrorTests {
    @Test func badRequestsGetAClearErrorWithAHint() async throws {
        let studio = try Studio()
        defer { studio.remove() }
        let song = try await TestMedia.mp3(seconds: 1, to: studio.root.file("song.mp3"))
        try await studio.serve(["--upload-limit", "1"]) { server in
            func expectError(_ response: HTTPResponse, _ status: Int, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
                #expect(response.status == status, "\(String(decoding: response.body, as: UTF8.self))", sourceLocation: sourceLocation)
                #expect(response.errorMessage?.contains(fragment) == true, "\(response.errorMessage ?? "no error")", sourceLocation: sourceLocation)
                #expect(response.hint?.isEmpty == false, sourceLocation: sourceLocation)
                #expect(response.header("content-type") == "application/json", sourceLocation: sourceLocation)
            }
            expectError(try await studio.get(server, "/api/nothing"), 404, "no such page")
            let wrongMethod = try await studio.get(server, "/api/uploads")
            expectError(wrongMethod, 405, "GET is not allowed")
            #expect(wrongMethod.header("allow") == "POST")

            // Renders.
            expectError(try await studio.post(server, "/api/renders", .data(Data("{".utf8), contentType: "application/json")), 400, "not JSON")
            expectError(try await studio.post(server, "/api/renders", .json(["upload": "x"])), 400, "no profile")
            expectError(try await studio.post(server, "/api/renders", .json(["profile": "../offline", "link": "https://example.com/a.mp3"])), 400, "not a profile name")
            expectError(try await studio.post(server, "/api/renders", .json(["profile": "offline"])), 400, "exactly one song")
            expectError(try await studio.post(server, "/api/renders", .json(["profile": "offline", "upload": "a", "link": "https://x.test/a"])), 400, "exactly one song")
            expectError(try await studio.post(server, "/api/renders", .json(["profile": "offline", "link": "file:///etc/passwd"])), 400, "not an http(s) link")
            expectError(try await studio.post(server, "/api/renders", .json(["profile": "offline", "upload": "../../etc/passwd"])), 400, "not an upload id")
            expectError(try await studio.post(server, "/api/renders", .json(["profile": "offline", "upload": .string(String(repeating: "a", count: 32))])), 400, "no upload")
            let upload = try await studio.post(server, "/api/uploads?name=song.mp3", .file(song, contentType: "audio/mpeg"))
            let uploadID = try #require(try upload.json()["upload"]?.stringValue)
            expectError(try await studio.post(server, "/api/renders", .json(["profile": "nosuch", "upload": .string(uploadID)])), 400, "nosuch")
            expectError(try await studio.post(server, "/api/renders", .json(["profile": "offline", "subject": "nobody", "upload": .string(uploadID)])), 400, "nobody")
            expectError(try await studio.post(server, "/api/renders", .json(["profile": "offline", "upload": .string(uploadID), "settings": ["nonsense"]])), 400, "STAGE.PARAM=VALUE")
            expectError(try await studio.post(server, "/api/renders", .json(["profile": "offline", "upload": .string(uploadID), "settings": [1]])), 400, "settings must be strings")
            expectError(try await studio.get(server, "/api/renders/nosuch"), 404, "no render")
            expectError(try await studio.get(server, "/api/renders/nosuch/events"), 404, "no render")
            expectError(try await studio.post(server, "/api/renders/nosuch/cancel"), 404, "no render")

            // Uploads.
            expectError(try await studio.post(server, "/api/uploads?name=run.sh", .data(Data("#!/bin/sh".utf8), contentType: "text/plain")), 415, "not a song file")
            expectError(try await studio.post(server, "/api/uploads", .data(Data("x".utf8), contentType: "audio/mpeg")), 415, "not a song file")
            expectError(try await studio.post(server, "/api/uploads?name=a.mp3", .data(Data(), contentType: "audio/mpeg")), 400, "empty")
            expectError(try await studio.post(server, "/api/uploads?name=big.wav", .data(Data(count: 2 << 20), contentType: "audio/wav")), 413, "larger than the limit")
            let uploads = try FileManager.default.contentsOfDirectory(atPath: studio.farm.home.appendingPathComponent("studio/uploads").path)
            #expect(uploads == ["\(uploadID).mp3"], "refused uploads leave nothing behind")

            // Runs.
            expectError(try await studio.get(server, "/api/runs?limit=0"), 400, "limit")
            expectError(try await studio.get(server, "/api/runs?limit=many"), 400, "limit")
            expectError(try await studio.get(server, "/api/runs/nosuch"), 404, "no run")
            expectError(try await studio.get(server, "/api/runs/nosuch/video"), 404, "no run")
            expectError(try await studio.get(server, "/api/runs/nosuch/still"), 404, "no run")
            expectError(try await studio.get(server, "/api/runs/nosuch/stages/video/outputs/video"), 404, "no run")
        }
    }

    @Test func changesMustComeFromTheStudioItselfAndPathsCannotClimb() async throws {
        let studio = try Studio()
        defer { studio.remove() }
        try await studio.serve { server in
            let base = Studio.base(server.url)
            let body = HTTPBody.json(["profile": "offline", "link": "https://example.com/a.mp3"])
            // Without the studio header (a plain cross-site form could send this much).
            var response = try await studio.post(server, "/api/renders", body, headers: [])
            #expect(response.status == 403)
            #expect(response.errorMessage?.contains("X-Farm-Studio") == true)
            response = try await studio.post(server, "/api/renders", body, headers: [("X-Farm-Studio", "1"), ("Origin", "https://evil.example")])
            #expect(response.status == 403)
            #expect(response.errorMessage?.contains("cross-origin") == true)
            response = try await studio.post(server, "/api/renders", body,
                                             headers: [("X-Farm-Studio", "1"), ("Origin", base), ("Sec-Fetch-Site", "cross-site")])
            #expect(response.status == 403)
            // DNS rebinding: a foreign Host name is refused.
            response = try await studio.get(server, "/api/runs", headers: [("Host", "evil.example:\(server.url.port!)")])
            #expect(response.status == 421)
            #expect(response.hint?.contains("127.0.0.1") == true)
            // Encoded dot segments and slashes never reach a file.
            for path in ["/api/runs/%2e%2e/video", "/api/runs/..%2F..%2Fetc%2Fpasswd/video", "/api/runs/x/stages/%2e%2e/outputs/%2fetc%2fpasswd",
                         "/%2e%2e/%2e%2e/etc/passwd"] {
                response = try await studio.get(server, path)
                #expect(response.status == 400, "\(path)")
                #expect(response.errorMessage?.contains("bad path") == true)
            }
            response = try await studio.get(server, "/")
            #expect(response.header("content-security-policy")?.contains("default-src 'self'") == true)
            #expect(response.header("x-frame-options") == "DENY")
            #expect(response.header("x-content-type-options") == "nosniff")
        }
    }

    @Test func beyondLoopbackATokenIsRequiredAndChecked() async throws {
        let studio = try Studio()
        defer { studio.remove() }
        let refused = try await studio.farm.run(["serve", "--host", "0.0.0.0", "--port", "0"])
        #expect(refused.status == 2)
        #expect(refused.standardError.contains("error: listening on 0.0.0.0"))
        #expect(refused.standardError.contains("hint: add --token"))
        let short = try await studio.farm.run(["serve", "--host", "0.0.0.0", "--port", "0", "--token", "short"])
        #expect(short.status == 2)
        #expect(short.standardError.contains("too short"))

        let token = "0123456789abcdef0123"
        try await studio.serve(["--token", token]) { server in
            #expect(server.url.query == "token=\(token)")
            #expect(try await studio.get(server, "/api/runs").status == 401)
            #expect(try await studio.get(server, "/").status == 401)
            #expect(try await studio.get(server, "/api/runs", headers: [("Authorization", "Bearer wrong-token-000000")]).status == 401)
            #expect(try await studio.get(server, "/api/runs", headers: [("Authorization", "Bearer \(token)")]).status == 200)
            #expect(try await studio.get(server, "/?token=wrong").status == 401)
            let login = try await studio.get(server, "/?token=\(token)")
            #expect(login.status == 303)
            let cookie = try #require(login.header("set-cookie"))
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
            let pair = String(cookie.split(separator: ";")[0])
            #expect(try await studio.get(server, "/api/runs", headers: [("Cookie", pair)]).status == 200)
        }
    }

    @Test func aPortInUseIsAClearError() async throws {
        let studio = try Studio()
        defer { studio.remove() }
        try await studio.serve { server in
            let second = try await studio.farm.run(["serve", "--port", "\(server.url.port!)"], timeout: .seconds(30))
            #expect(second.status == 2)
            #expect(second.standardError.contains("is already in use"))
            #expect(second.standardError.contains("hint: "))
        }
    }

    @Test func theReplicateTokenNeverReachesTheBrowser() async throws {
        let secret = "r8_studio_secret_never_shown_0123456789"
        let root = try TemporaryDirectory("farm-serve")
        defer { root.remove() }
        let work = root.file("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let farm = FarmCLI(home: root.file("home"), workingDirectory: work, environment: ["REPLICATE_API_TOKEN": secret])
        let http = HTTPClient()
        let (_, status) = try await FarmServe(cli: farm).run { server in
            var seen = ""
            for path in ["/", "/studio.js", "/studio.css", "/openapi.json", "/api/profiles", "/api/subjects", "/api/providers",
                         "/api/runs", "/api/renders", "/api/nothing"] {
                let response = try await http.send(HTTPRequest(url: URL(string: Studio.base(server.url) + path)!))
                seen += String(decoding: response.body, as: UTF8.self) + response.headers.description
            }
            #expect(!seen.contains(secret))
            #expect(!server.standardError.contains(secret))
        }
        #expect(status == 0)
    }
}
