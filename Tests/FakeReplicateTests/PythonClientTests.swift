import FarmKit
import FarmTestSupport
import Foundation
import Subprocess
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// The `fake-replicate` executable, and the official Python client (`replicate` on PyPI) against
/// it: proof that the fake speaks the same API as the real service.
extension FakeReplicateSuite {
    @Suite struct PythonClientTests {
        /// The client version the fake is checked against: the latest 1.x on PyPI.
        static let clientVersion = "1.0.7"

        @Test func executableRefusesOtherHostsAndBadFlags() async throws {
            let binary = try #require(FakeProcess.binary, "fake-replicate is not built next to the tests")
            let remote = try await ProcessRunner.run(binary.path, ["--host", "0.0.0.0"], timeout: .seconds(30))
            #expect(remote.status == 2)
            #expect(remote.standardError.contains("loopback only"))
            #expect(try await ProcessRunner.run(binary.path, ["--port", "x"], timeout: .seconds(30)).status == 2)
            #expect(try await ProcessRunner.run(binary.path, ["--bogus"], timeout: .seconds(30)).status == 2)
            let help = try await ProcessRunner.run(binary.path, ["--help"], timeout: .seconds(30))
            #expect(help.status == 0)
            #expect(help.standardOutput.contains("--latency-scale"))
        }

        @Test func executableServesAndStopsOnSIGTERM() async throws {
            let folder = try TemporaryDirectory("fake-replicate-exe")
            defer { folder.remove() }
            let config = folder.file("config.json")
            try Data(#"{"page_size": 1, "latency_scale": 0.01, "tokens": ["r8_other"]}"#.utf8).write(to: config)
            let result = try await FakeProcess.with(["--config", config.path, "--token", "r8_cli"]) { (origin: String, pid: Int32) async throws in
                var api = Curl(base: URL(string: "\(origin)/v1")!, folder: folder.url)
                api.token = "r8_cli"
                #expect(try await api.get("/account").status == 200)
                api.token = "r8_other"
                #expect(try await api.get("/account").status == 401)
                #expect(ProcessTable.isAlive(pid))
            }
            #expect(result.status == 0)
            #expect(result.standardError.contains("stopping"))
        }

        @Test func officialPythonClient() async throws {
            let python = try await PythonClient.environment(version: Self.clientVersion)
            let folder = try TemporaryDirectory("fake-replicate-python")
            defer { folder.remove() }
            let config = folder.file("config.json")
            try Data(#"{"page_size": 2, "latency_scale": 0.01}"#.utf8).write(to: config)
            let song = try await TestMedia.sineWAV(seconds: 1, to: folder.file("song.wav"))
            let script = folder.file("client_check.py")
            try Data(PythonClient.script.utf8).write(to: script)

            let result = try await FakeProcess.with(["--config", config.path]) { (origin: String, _: Int32) async throws in
                let run = try await ProcessRunner.run(python.path, [script.path, origin, song.path], timeout: .seconds(300))
                #expect(run.status == 0, "the Python client failed:\n\(run.standardOutput)\n\(run.standardError)")
                let report = try JSON.parse(run.standardOutput.split(separator: "\n").last.map(String.init) ?? "", source: "client_check.py")
                #expect(report["uploaded"]?.stringValue?.hasPrefix("\(origin)/v1/files/") == true)
                #expect(report["flux"]?.stringValue?.hasSuffix("/out-0.webp") == true)
                #expect(report["flux_bytes"]?.intValue ?? 0 > 100)
                #expect(report["rvc_status"] == "succeeded")
                #expect(report["rvc_output"]?.stringValue?.hasSuffix("/song%20%28Obama%20Ver%29.wav") == true)
                #expect(report["run_by_version"]?.stringValue?.hasSuffix("%28Drake%20Ver%29.mp3") == true)
                #expect(report["pages"]?.intValue ?? 0 >= 2)
                #expect(report["listed"]?.intValue ?? 0 >= 4)
                #expect(report["canceled"] == "canceled")
                #expect(report["schema_song_input"] == "uri")
                #expect(report["training"] == "succeeded")
                #expect(report["bad_input_status"] == 422)
                #expect(report["unauthenticated_status"] == 401)
            }
            #expect(result.status == 0)
        }
    }
}

/// The `fake-replicate` executable run as a child process.
enum FakeProcess {
    /// The binary built next to the test bundle.
    static var binary: URL? {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let candidates = [folder.appendingPathComponent("fake-replicate"), folder.deletingLastPathComponent().appendingPathComponent("fake-replicate")]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    struct Result {
        let status: Int32
        let standardError: String
    }

    /// Starts `fake-replicate --port 0 ARGUMENTS`, reads its `listening on ORIGIN` line, runs
    /// `body(origin, pid)`, then sends SIGTERM to that pid and waits for it to exit.
    static func with(_ arguments: [String], _ body: @Sendable (String, Int32) async throws -> Void) async throws -> Result {
        let binary = try #require(binary, "fake-replicate is not built next to the tests")
        var options = PlatformOptions()
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(5))]
        let outcome = try await Subprocess.run(
            .path(FilePath(binary.path)), arguments: Arguments(["--port", "0"] + arguments), platformOptions: options,
            input: .none, output: .sequence, error: .sequence
        ) { execution in
            try await withThrowingTaskGroup(of: String?.self) { group in
                group.addTask {
                    var text = ""
                    for try await line in execution.standardError.strings() { text += line + "\n" }
                    return text
                }
                let pid = execution.processIdentifier.value
                var lines = execution.standardOutput.strings().makeAsyncIterator()
                let first = try await lines.next() ?? ""
                guard first.hasPrefix("listening on http://127.0.0.1:") else {
                    kill(pid, SIGKILL)
                    Issue.record("fake-replicate printed \(first)")
                    return ""
                }
                let origin = String(first.dropFirst("listening on ".count))
                do {
                    try await body(origin, pid)
                } catch {
                    kill(pid, SIGTERM)
                    throw error
                }
                kill(pid, SIGTERM)
                while try await lines.next() != nil {}
                var error = ""
                while let next = try await group.next() { error = next ?? "" }
                return error
            }
        }
        let status: Int32 = switch outcome.terminationStatus {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
        return Result(status: status, standardError: outcome.closureResult)
    }
}

/// A virtual environment with the official client, cached under `.build-fake/`.
enum PythonClient {
    /// The venv's python; when PyPI cannot be reached (or venv does not work) the test is skipped
    /// (cancelled) with the reason.
    static func environment(version: String) async throws -> URL {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let venv = root.appendingPathComponent(".build-fake/replicate-\(version)")
        let python = venv.appendingPathComponent("bin/python")
        let check = try? await ProcessRunner.run(python.path, ["-c", "import replicate, sys; sys.exit(0 if replicate.__about__.__version__ == '\(version)' else 1)"], timeout: .seconds(60))
        if check?.status == 0 { return python }
        try? FileManager.default.removeItem(at: venv)
        let made = try await ProcessRunner.run("python3", ["-m", "venv", venv.path], timeout: .seconds(120))
        guard made.status == 0 else {
            try Test.cancel("skipped: python3 -m venv does not work here (\(made.standardError.suffix(200)))")
        }
        let pip = try await ProcessRunner.run(
            venv.appendingPathComponent("bin/pip").path,
            ["install", "--quiet", "--disable-pip-version-check", "--timeout", "20", "--retries", "1", "replicate==\(version)"], timeout: .seconds(300))
        guard pip.status == 0 else {
            try? FileManager.default.removeItem(at: venv)
            try Test.cancel("skipped: PyPI is unreachable (pip install replicate==\(version) failed: \(pip.standardError.suffix(300)))")
        }
        return python
    }

    /// Uploads a file, runs flux-dev-lora with `replicate.run`, creates and waits an RVC
    /// prediction by version, pages through the predictions, cancels one, reads a version's
    /// schema, trains into a new destination model; prints one JSON line of what it saw.
    static let script = #"""
        import json, sys, urllib.request
        import replicate
        from replicate.exceptions import ReplicateError

        origin, song_path = sys.argv[1], sys.argv[2]
        client = replicate.Client(api_token="r8_test_token", base_url=origin)
        report = {}

        uploaded = client.files.create(song_path)
        report["uploaded"] = uploaded.urls["get"]
        assert uploaded.name == "song.wav", uploaded
        assert len(uploaded.checksums["sha256"]) == 64

        out = client.run("black-forest-labs/flux-dev-lora", input={"prompt": "close-up of TOK singing", "megapixels": "0.25"})
        first = out[0]
        url = first if isinstance(first, str) else first.url
        report["flux"] = url
        report["flux_bytes"] = len(urllib.request.urlopen(url).read())

        rvc = "0a9c7c558af4c0f20667c1bd1260ce32a2879944a0b9e44e1398660c077b1550"
        prediction = client.predictions.create(version=rvc, input={"song_input": uploaded.urls["get"], "rvc_model": "Obama", "output_format": "wav"})
        assert prediction.status == "starting", prediction.status
        prediction.wait()
        report["rvc_status"] = prediction.status
        report["rvc_output"] = prediction.output

        # A local file as input: the client uploads it through the Files API itself.
        with open(song_path, "rb") as song:
            cover = client.run("zsxkib/realistic-voice-cloning:" + rvc, input={"song_input": song, "rvc_model": "Drake"})
        report["run_by_version"] = cover if isinstance(cover, str) else cover.url

        doomed = client.predictions.create(version=rvc, input={"song_input": uploaded.urls["get"], "rvc_model": "Obama"})
        doomed.cancel()
        doomed.reload()
        report["canceled"] = doomed.status

        pages, listed = 0, 0
        for page in replicate.pagination.paginate(client.predictions.list):
            pages += 1
            listed += len(page.results)
        report["pages"], report["listed"] = pages, listed

        model = client.models.get("zsxkib/realistic-voice-cloning")
        version = model.versions.get(rvc)
        report["schema_song_input"] = version.openapi_schema["components"]["schemas"]["Input"]["properties"]["song_input"]["format"]

        client.models.create(owner="farm-test", name="py-flux", visibility="private", hardware="gpu-t4")
        import io, zipfile
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("img_0.jpg", b"fake")
        buffer.seek(0)
        images = client.files.create(buffer, filename="photos.zip", content_type="application/zip")
        training = client.trainings.create(
            version="replicate/fast-flux-trainer:8b10794665aed907bb98a1a5324cd1d3a8bea0e9b31e65210967fb9c9e2e08ed",
            input={"input_images": images.urls["get"], "trigger_word": "PY"}, destination="farm-test/py-flux")
        while training.status not in ("succeeded", "failed", "canceled"):
            import time; time.sleep(0.2); training.reload()
        report["training"] = training.status

        try:
            client.predictions.create(version=rvc, input={"song": "x"})
        except ReplicateError as error:
            report["bad_input_status"] = error.status
        try:
            replicate.Client(api_token="r8_nope", base_url=origin).accounts.current()
        except ReplicateError as error:
            report["unauthenticated_status"] = error.status

        print(json.dumps(report))
        """#
}
