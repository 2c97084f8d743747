import FakeReplicate
import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// The render pipeline's calls against the fake, through plain HTTP: real media comes back.
extension FakeReplicateSuite {
    @Suite struct PipelineTests {
        @Test func authenticationAndAccount() async throws {
            let fake = try await FakeFixture.start()
            defer { Task { await fake.stop() } }
            var anonymous = fake.api
            anonymous.token = nil
            let missing = try await anonymous.get("/account")
            #expect(missing.status == 401)
            #expect(missing.headers["content-type"] == "application/problem+json")
            #expect(missing.text == #"{"title":"Unauthenticated","detail":"You did not pass a valid authentication token","status":401}"#)
            var wrong = fake.api
            wrong.token = "r8_wrong"
            #expect(try await wrong.get("/predictions").status == 401)
            #expect(try await wrong.get("/no/such/route").status == 401)

            let account = try await fake.api.get("/account")
            #expect(account.status == 200)
            #expect(account["username"] == "farm-test")
            #expect(account["type"] == "organization")
            #expect(account.headers["ratelimit-remaining"] == "2999")
            #expect(account.headers["ratelimit-reset"] == "1")

            var legacy = fake.api
            legacy.scheme = "Token"
            #expect(try await legacy.get("/account").status == 200)
            #expect(try await fake.api.get("/no/such/route").status == 404)
            let wrongMethod = try await fake.api.send("DELETE", "/predictions")
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.headers["allow"] == "GET, POST")
            await fake.stop()
        }

        /// portrait (FLUX), cover and vocals (RVC, by version, with a custom voice zip) and the
        /// performance (Sonic): one FLUX, two RVC, one Sonic prediction, the song uploaded once, the
        /// three independent ones running at the same time.
        @Test func renderPipeline() async throws {
            let fake = try await FakeFixture.start { config in
                config.latencyScale = 1
                config.latencies["black-forest-labs/flux-dev-lora"] = .init(startup: 0.1, base: 1.5)
                config.latencies["zsxkib/realistic-voice-cloning"] = .init(startup: 0.1, base: 1, perAudioSecond: 0.2)
                config.latencies["zsxkib/sonic"] = .init(startup: 0.1, base: 0.2, perAudioSecond: 0.1)
            }
            defer { Task { await fake.stop() } }
            let api = fake.api
            let song = try await fake.upload(try await fake.song(seconds: 3), type: "audio/wav")
            // The voice zip lives at a public URL (models.md §9), here the fake's stand-in for one.
            let voiceZip = try fake.zip("alice_v2.zip", [("alice.pth", "weights"), ("added_alice.index", "index")])
            let voice = try fake.server.publish(try Data(contentsOf: voiceZip), as: "alice_v2.zip").absoluteString
            let rvc = "zsxkib/realistic-voice-cloning:0a9c7c558af4c0f20667c1bd1260ce32a2879944a0b9e44e1398660c077b1550"
            let voiceInput: [(String, JSON)] = [
                ("song_input", .string(song)), ("rvc_model", "CUSTOM"), ("custom_rvc_model_download_url", .string(voice)),
                ("pitch_change", "no-change"),
            ]

            async let portrait = api.post(
                "/models/black-forest-labs/flux-dev-lora/predictions",
                ["input": ["prompt": "close-up of TOK singing on stage", "aspect_ratio": "1:1", "megapixels": "0.25", "output_format": "png", "seed": 7]],
                headers: ["Prefer": "wait"])
            async let cover = api.post("/predictions", ["version": .string(rvc), "input": .object(JSONObject(voiceInput + [("output_format", "mp3")]))])
            async let vocals = api.post("/predictions", ["version": .string(rvc), "input": .object(JSONObject(voiceInput + [
                ("instrumental_volume_change", -100), ("backup_vocals_volume_change", -100), ("reverb_wetness", 0), ("reverb_dryness", 1),
                ("output_format", "wav"),
            ]))])
            let (portraitReply, coverReply, vocalsReply) = try await (portrait, cover, vocals)

            #expect(portraitReply.status == 201)
            #expect(portraitReply.headers["preference-applied"] == "wait")
            #expect(portraitReply["status"] == "succeeded")
            #expect(portraitReply["version"] == "hidden")
            let image = try #require(portraitReply["output"]?.arrayValue?.first?.stringValue)
            #expect(image.hasPrefix(fake.origin + "/delivery/") && image.hasSuffix("/out-0.png"))
            #expect(portraitReply["logs"]?.stringValue?.contains("Using seed: 7") == true)

            #expect(coverReply.status == 201)
            #expect(coverReply["status"] == "starting")
            #expect(coverReply["version"] == "0a9c7c558af4c0f20667c1bd1260ce32a2879944a0b9e44e1398660c077b1550")
            let coverDone = try await api.wait(try #require(coverReply["id"]?.stringValue))
            let vocalsDone = try await api.wait(try #require(vocalsReply["id"]?.stringValue))
            #expect(coverDone["status"] == "succeeded", "\(coverDone.compactString)")
            #expect(vocalsDone["status"] == "succeeded", "\(vocalsDone.compactString)")
            let coverURL = try #require(coverDone["output"]?.stringValue)
            let vocalsURL = try #require(vocalsDone["output"]?.stringValue)
            #expect(coverURL.hasSuffix("/song%20%28alice_v2%20Ver%29.mp3"))
            #expect(vocalsURL.hasSuffix("/song%20%28alice_v2%20Ver%29.wav"))
            let logs = try #require(coverDone["logs"]?.stringValue)
            #expect(logs.contains("[!] The model will be downloaded as 'alice_v2'."))
            #expect(logs.contains("[+] alice_v2 Model successfully downloaded!"))
            #expect(coverDone["metrics"]?["predict_time"]?.doubleValue ?? 0 >= 1)

            // Sonic: the portrait and the isolated vocals.
            let sonic = try await fake.latestVersion("zsxkib/sonic")
            let performance = try await api.post(
                "/predictions",
                ["version": .string(sonic), "input": ["image": .string(image), "audio": .string(vocalsURL), "min_resolution": 256, "seed": 42]],
                headers: ["Prefer": "wait=30"])
            #expect(performance.headers["preference-applied"] == "wait=30")
            // Prefer: wait answers with what is there after 30 s (ProtocolTests checks the hold);
            // on a loaded machine the fake's ffmpeg may still be working, so wait for the end.
            let finished = performance["status"] == "succeeded"
                ? performance.json : try await api.wait(try #require(performance["id"]?.stringValue))
            #expect(finished["status"] == "succeeded", "\(finished.compactString)")
            let videoURL = try #require(finished["output"]?.stringValue)
            #expect(videoURL.hasSuffix("/output.mp4"))

            // Real media.
            let ffmpeg = FFmpeg()
            let (imageFile, _) = try await api.download(image, as: "portrait.png")
            let imageInfo = try await ffmpeg.probe(imageFile)
            #expect(imageInfo.video?.width == 512 && imageInfo.video?.height == 512)
            let (coverFile, _) = try await api.download(coverURL, as: "cover.mp3")
            let coverInfo = try await ffmpeg.probe(coverFile)
            #expect(coverInfo.audio?.codec == "mp3")
            #expect(abs((coverInfo.duration ?? 0) - 3) < 0.2)
            let (vocalsFile, _) = try await api.download(vocalsURL, as: "vocals.wav")
            #expect(abs((try await ffmpeg.probe(vocalsFile).duration ?? 0) - 3) < 0.05)
            let (videoFile, _) = try await api.download(videoURL, as: "performance.mp4")
            let videoInfo = try await ffmpeg.probe(videoFile)
            #expect(videoInfo.video?.codec == "h264")
            #expect(videoInfo.video?.width == 256)
            #expect(abs((videoInfo.video?.frameRate ?? 0) - 25) < 0.01)
            #expect(videoInfo.audio != nil)

            // What the fake saw.
            let ledger = fake.server.ledger()
            #expect(ledger.predictions(of: "black-forest-labs/flux-dev-lora").count == 1)
            #expect(ledger.predictions(of: "zsxkib/realistic-voice-cloning").count == 2)
            #expect(ledger.predictions(of: "zsxkib/sonic").count == 1)
            #expect(ledger.files.filter { $0.name == "song.wav" }.count == 1)
            #expect(ledger.requests("POST /v1/files") == 1)
            let independent = ledger.predictions.filter { $0.model != "zsxkib/sonic" }
            for a in independent {
                for b in independent where a.id != b.id {
                    let overlap = try #require(a.startedAt) < (try #require(b.completedAt)) && (try #require(b.startedAt)) < (try #require(a.completedAt))
                    #expect(overlap, "\(a.model) and \(b.model) did not run at the same time")
                }
            }
            await fake.stop()
        }

        @Test func filesAPI() async throws {
            let fake = try await FakeFixture.start { $0.maxFileSize = 64 * 1024 }
            defer { Task { await fake.stop() } }
            let text = fake.folder.file("notes.txt")
            try Data("hello fake\n".utf8).write(to: text)
            let created = try await fake.api.send("POST", "/files", form: ["content=@\(text.path);type=text/plain", #"metadata={"customer_reference_id": 123};type=application/json"#])
            #expect(created.status == 201)
            #expect(created["name"] == "notes.txt")
            #expect(created["content_type"] == "text/plain")
            #expect(created["size"] == 11)
            #expect(created["checksums"]?["sha256"]?.stringValue == SHA256.hex(of: "hello fake\n"))
            #expect(created["checksums"]?["md5"] == "3588472481072728bcebd2c10173444d")
            #expect(created["etag"] == "3588472481072728bcebd2c10173444d")
            #expect(created["metadata"]?["customer_reference_id"] == 123)
            let id = try #require(created["id"]?.stringValue)
            #expect(created["urls"]?["get"]?.stringValue == "\(fake.api.base.absoluteString)/files/\(id)")
            let createdAt = try #require(created["created_at"]?.stringValue), expiresAt = try #require(created["expires_at"]?.stringValue)
            #expect(createdAt.hasSuffix("Z") && expiresAt > createdAt)

            #expect(try await fake.api.get("/files/\(id)")["id"]?.stringValue == id)
            let list = try await fake.api.get("/files")
            #expect(list["results"]?.arrayValue?.count == 1)
            #expect(list["next"] == .null)

            let deleted = try await fake.api.send("DELETE", "/files/\(id)")
            #expect(deleted.status == 204)
            let gone = try await fake.api.get("/files/\(id)")
            #expect(gone.status == 404)
            #expect(gone.text == #"{"detail":"File not found"}"#)

            let big = fake.folder.file("big.bin")
            try Data(count: 70 * 1024).write(to: big)
            let tooLarge = try await fake.api.upload(big, type: "application/octet-stream")
            #expect(tooLarge.status == 413)
            #expect(tooLarge.text == #"{"detail":"Files must be less than 100MB in size"}"#)
            #expect(try await fake.api.post("/files", ["content": "x"]).status == 400)
            await fake.stop()
        }

        @Test func inputsAreFetchedOnlyFromTheFakeItself() async throws {
            let fake = try await FakeFixture.start()
            defer { Task { await fake.stop() } }
            let song = try await fake.song(seconds: 1)
            let data = try Data(contentsOf: song).base64EncodedString()
            let rvc = "0a9c7c558af4c0f20667c1bd1260ce32a2879944a0b9e44e1398660c077b1550"
            // A data: URI works.
            let inline = try await fake.api.post(
                "/predictions", ["version": .string(rvc), "input": ["song_input": .string("data:audio/wav;base64,\(data)"), "rvc_model": "Obama"]],
                headers: ["Prefer": "wait"])
            #expect(inline["status"] == "succeeded", "\(inline.text)")
            #expect(inline["output"]?.stringValue?.hasSuffix("/file%20%28Obama%20Ver%29.mp3") == true)

            // Another host is never fetched: the prediction fails.
            let elsewhere = try await fake.api.post(
                "/predictions", ["version": .string(rvc), "input": ["song_input": "https://example.com/song.wav"]], headers: ["Prefer": "wait"])
            #expect(elsewhere["status"] == "failed")
            #expect(elsewhere["error"]?.stringValue?.contains("fetches only its own URLs") == true)

            // A missing file of the fake: 404 inside the model.
            let missing = try await fake.api.post(
                "/predictions", ["version": .string(rvc), "input": ["song_input": .string("\(fake.api.base.absoluteString)/files/nope")]],
                headers: ["Prefer": "wait"])
            #expect(missing["status"] == "failed")
            #expect(missing["error"]?.stringValue?.contains("HTTP Error 404: Not Found") == true)
            await fake.stop()
        }

        /// Both volume changes at −100 dB silence the instrumental and backing vocals: vocals only.
        /// At −20 dB they are still there: the whole mix.
        @Test func isolatedVocalsPreset() async throws {
            let fake = try await FakeFixture.start()
            defer { Task { await fake.stop() } }
            let song = try await fake.upload(try await fake.song(seconds: 1), type: "audio/wav")
            func convert(_ level: Double) async throws -> Data {
                let reply = try await fake.api.post(
                    "/predictions",
                    ["version": "0a9c7c558af4c0f20667c1bd1260ce32a2879944a0b9e44e1398660c077b1550",
                     "input": ["song_input": .string(song), "output_format": "wav", "instrumental_volume_change": .double(level),
                               "backup_vocals_volume_change": .double(level)]],
                    headers: ["Prefer": "wait"])
                return try await fake.api.get(try #require(reply["output"]?.stringValue)).body
            }
            let mix = try await convert(0), quieter = try await convert(-20), isolated = try await convert(-100)
            #expect(mix == quieter)
            #expect(mix != isolated)
            #expect(mix.count == isolated.count)
            await fake.stop()
        }

        @Test func voiceModelMustBeAFetchableZip() async throws {
            let fake = try await FakeFixture.start()
            defer { Task { await fake.stop() } }
            let song = try await fake.upload(try await fake.song(seconds: 1), type: "audio/wav")
            let notZip = fake.folder.file("voice.zip")
            try Data("not a zip".utf8).write(to: notZip)
            let notZipURL = try fake.server.publish(try Data(contentsOf: notZip), as: "voice.zip").absoluteString
            let noWeights = try fake.server.publish(try Data(contentsOf: try fake.zip("empty_voice.zip", [("readme.txt", "x")])), as: "empty_voice.zip").absoluteString
            let uploadedVoice = try await fake.upload(try fake.zip("uploaded_voice.zip", [("v.pth", "x")]), type: "application/zip")
            let rvc = "0a9c7c558af4c0f20667c1bd1260ce32a2879944a0b9e44e1398660c077b1550"
            let cases: [(String, String)] = [
                (notZipURL, "File is not a zip file"),
                (uploadedVoice, "HTTP Error 401: Unauthorized"),  // Files API URLs need the token; urllib sends none
                ("\(fake.origin)/public/missing.zip", "HTTP Error 404: Not Found"),
                (noWeights, "No model file exists in rvc_models/"),
                ("\(fake.origin)/delivery/nope/gone.zip", "HTTP Error 404: Not Found"),
                ("https://huggingface.co/alice/voice/resolve/main/alice.zip", "fetches only its own URLs"),
            ]
            for (url, error) in cases {
                let reply = try await fake.api.post(
                    "/predictions",
                    ["version": .string(rvc), "input": ["song_input": .string(song), "rvc_model": "CUSTOM", "custom_rvc_model_download_url": .string(url)]],
                    headers: ["Prefer": "wait"])
                #expect(reply["status"] == "failed", "\(url)")
                #expect(reply["error"]?.stringValue?.contains(error) == true, "\(url): \(reply["error"]?.compactString ?? "")")
                #expect(reply["logs"]?.stringValue?.contains("[~] Downloading voice model with name") == true)
            }
            // CUSTOM without a URL: the real model's folder check.
            let noURL = try await fake.api.post(
                "/predictions", ["version": .string(rvc), "input": ["song_input": .string(song), "rvc_model": "CUSTOM"]], headers: ["Prefer": "wait"])
            #expect(noURL["error"] == "The folder rvc_models/CUSTOM does not exist.")
            await fake.stop()
        }

        @Test func sonicNeedsAFaceAndKeepsItsSeed() async throws {
            let fake = try await FakeFixture.start()
            defer { Task { await fake.stop() } }
            let sonic = try await fake.latestVersion("zsxkib/sonic")
            let audio = try await fake.upload(try await fake.song(seconds: 1), type: "audio/wav")
            let blank = fake.folder.file("blank.png")
            try await FFmpeg().run(["-f", "lavfi", "-i", "color=c=gray:s=320x320:d=1", "-frames:v", "1", blank.path])
            let blankURL = try await fake.upload(blank, type: "image/png")
            let faceless = try await fake.api.post(
                "/predictions", ["version": .string(sonic), "input": ["image": .string(blankURL), "audio": .string(audio)]], headers: ["Prefer": "wait"])
            #expect(faceless["status"] == "failed")
            #expect(faceless["error"] == "[Errno 2] No such file or directory: '/src/res_path/output.mp4'")
            #expect(faceless["logs"]?.stringValue?.contains("Face detection result: 0 face(s) found") == true)
            #expect(faceless["logs"]?.stringValue?.contains("seed: 72589") == true)

            let portrait = try await fake.api.post(
                "/models/black-forest-labs/flux-dev-lora/predictions", ["input": ["prompt": "TOK", "megapixels": "0.25"]], headers: ["Prefer": "wait"])
            let image = try #require(portrait["output"]?.arrayValue?.first?.stringValue)
            func run(seed: JSON?) async throws -> JSON {
                var input = JSONObject([("image", .string(image)), ("audio", .string(audio)), ("min_resolution", 256)])
                input["seed"] = seed
                return try await fake.api.post("/predictions", ["version": .string(sonic), "input": .object(input)], headers: ["Prefer": "wait"]).json
            }
            #expect(try await run(seed: 42)["logs"]?.stringValue?.contains("seed: 42") == true)
            #expect(try await run(seed: nil)["logs"]?.stringValue?.contains("seed: 42") == true)
            #expect(try await run(seed: 0)["logs"]?.stringValue?.contains("seed: 42") == true)
            await fake.stop()
        }

        @Test func modelsVersionsAndSchemas() async throws {
            let fake = try await FakeFixture.start()
            defer { Task { await fake.stop() } }
            let model = try await fake.api.get("/models/zsxkib/realistic-voice-cloning")
            #expect(model["latest_version"]?["id"] == "0a9c7c558af4c0f20667c1bd1260ce32a2879944a0b9e44e1398660c077b1550")
            let version = try await fake.api.get("/models/zsxkib/realistic-voice-cloning/versions/0a9c7c558af4c0f20667c1bd1260ce32a2879944a0b9e44e1398660c077b1550")
            let input = try #require(version["openapi_schema"]?["components"]?["schemas"]?["Input"]?["properties"]?.objectValue)
            #expect(input.keys == [
                "song_input", "rvc_model", "custom_rvc_model_download_url", "pitch_change", "index_rate", "filter_radius", "rms_mix_rate",
                "pitch_detection_algorithm", "crepe_hop_length", "protect", "main_vocals_volume_change", "backup_vocals_volume_change",
                "instrumental_volume_change", "pitch_change_all", "reverb_size", "reverb_wetness", "reverb_dryness", "reverb_damping",
                "output_format",
            ])
            #expect(input["song_input"]?["format"] == "uri")
            #expect(input["protect"]?["maximum"] == 0.5)
            #expect(input["index_rate"]?["default"] == 0.5)
            #expect(input["instrumental_volume_change"]?["minimum"] == nil)
            let schemas = try #require(version["openapi_schema"]?["components"]?["schemas"])
            #expect(schemas["pitch_change"]?["enum"] == ["no-change", "male-to-female", "female-to-male"])
            #expect(input["pitch_change"]?["allOf"]?.arrayValue?.first?["$ref"] == "#/components/schemas/pitch_change")

            let versions = try await fake.api.get("/models/zsxkib/realistic-voice-cloning/versions")
            #expect(versions["results"]?.arrayValue?.count == 1)
            let flux = try await fake.api.get("/models/black-forest-labs/flux-dev-lora")
            #expect(flux["is_official"] == true)
            let lora = try await fake.api.get("/models/farm-test/alice-flux")
            #expect(lora["latest_version"]?["openapi_schema"]?["components"]?["schemas"]?["Input"]?["properties"]?["replicate_weights"] != nil)
            let trainer = try await fake.api.get("/models/replicate/fast-flux-trainer/versions/8b10794665aed907bb98a1a5324cd1d3a8bea0e9b31e65210967fb9c9e2e08ed")
            #expect(trainer["openapi_schema"]?["components"]?["schemas"]?["TrainingInput"]?["required"] == ["input_images"])
            #expect(try await fake.api.get("/models/nobody/nothing").status == 404)
            #expect(try await fake.api.get("/models/zsxkib/sonic/versions/0000").status == 404)
            let hardware = try await fake.api.get("/hardware")
            #expect(hardware.json.arrayValue?.first?["sku"] == "cpu")
            await fake.stop()
        }
    }
}
