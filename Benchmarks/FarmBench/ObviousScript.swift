import FarmKit
import Foundation
import ReplicateProvider

/// The pipeline as an obvious script would run it: one step after the other, Sonic in one
/// prediction for the whole song, then ffmpeg. Same models, inputs and HTTP client as farm; it
/// polls every 0.5 s, as the official Python client's `replicate.run` does.
struct ObviousScript {
    let client: ReplicateClient
    let flux: String
    let voiceURL: String
    let folder: URL

    static let rvc = "zsxkib/realistic-voice-cloning:0a9c7c558af4c0f20667c1bd1260ce32a2879944a0b9e44e1398660c077b1550"

    /// Runs it; returns the wall seconds and the id of the Sonic prediction.
    func run(song: URL) async throws -> (seconds: Double, sonic: String) {
        let start = ContinuousClock.now
        let songURL = try await client.upload(song, contentType: "audio/wav").url
        let image = try await predict(flux, [
            "prompt": "close-up portrait of TOK singing into a microphone on stage", "aspect_ratio": "1:1",
            "num_inference_steps": 28, "guidance_scale": 3, "output_format": "png", "seed": 7, "num_outputs": 1,
        ], to: "portrait.png")
        var voice: JSONObject = [
            "song_input": .string(songURL), "rvc_model": "CUSTOM", "custom_rvc_model_download_url": .string(voiceURL),
            "pitch_change": "male-to-female", "output_format": "mp3",
        ]
        let cover = try await predict(Self.rvc, voice, to: "cover.mp3")
        voice["instrumental_volume_change"] = -100
        voice["backup_vocals_volume_change"] = -100
        voice["reverb_wetness"] = 0
        voice["reverb_dryness"] = 1
        voice["output_format"] = "wav"
        let vocals = try await predict(Self.rvc, voice, to: "vocals.wav")
        let imageURL = try await client.upload(image, contentType: "image/png").url
        let vocalsURL = try await client.upload(vocals, contentType: "audio/wav").url
        let (face, sonic) = try await predictWithID("zsxkib/sonic", [
            "image": .string(imageURL), "audio": .string(vocalsURL), "seed": 42, "inference_steps": 25,
            "dynamic_scale": 1.0, "min_resolution": 512,
        ], to: "face.mp4")
        try await FFmpeg().muxVideo(face, audio: cover, to: folder.appendingPathComponent("script.mp4"))
        return ((ContinuousClock.now - start).seconds, sonic)
    }

    private func predict(_ model: String, _ input: JSONObject, to name: String) async throws -> URL {
        try await predictWithID(model, input, to: name).0
    }

    private func predictWithID(_ model: String, _ input: JSONObject, to name: String) async throws -> (URL, String) {
        let runnable = try await client.runnable(ModelReference(model)!)
        var done = try await client.createPrediction(runnable, input: input)
        while !done.status.isTerminal {
            try await Task.sleep(for: .milliseconds(500))
            done = try await client.prediction(id: done.id)
        }
        guard done.status == .succeeded, let url = done.outputURLs.first else {
            throw BenchError("\(model) ended \(done.status.rawValue): \(done.error ?? "")")
        }
        let file = folder.appendingPathComponent(name)
        try await client.download(url, to: file)
        return (file, done.id)
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
