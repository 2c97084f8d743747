import FarmKit
import Foundation

/// `offline.face`, the stand-in for Sonic: the still, cropped to its centred square, under a stage
/// light that pulses with the audio's loudness and over a waveform band, with the audio as sound.
struct OfflineFaceStage: RenderStage {
    let id = StageID("offline.face", version: 1)
    let summary = "fake singing face: the still lit and waved by the audio (stands in for Sonic)"
    let inputs = [
        Port("image", .image, "the portrait; its centred square is used"),
        Port("audio", .audio, "the vocals: drive the animation and are the sound track"),
    ]
    let outputs = [Port("video", .video, "mp4: H.264 yuv420p + AAC, as long as the audio")]
    let parameters = [
        ParamSpec("size", .integer, default: 512, range: 256...1024, "width and height in pixels (odd sizes round down)"),
        ParamSpec("fps", .integer, default: 25, range: 10...60, "frames per second"),
    ]

    func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
        let image = try request.input("image").path
        let audio = try request.input("audio").path
        let size = (request.int("size") ?? 512) / 2 * 2
        let fps = request.int("fps") ?? 25

        context.progress(0, "decoding the audio")
        let sound = context.scratchFile("audio.wav")
        defer { try? FileManager.default.removeItem(at: sound) }
        let seconds = try await context.decodeAudio(audio, to: sound, name: "the audio")

        let output = context.scratchFile("video.mp4")
        let frames = max(1, Int((seconds * Double(fps)).rounded()))
        var arguments = ["-i", image.path, "-i", sound.path, "-filter_complex", Self.graph(size: size, fps: fps)]
        arguments += ["-map", "[v]", "-frames:v", "\(frames)", "-r", "\(fps)", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23"]
        arguments += ["-pix_fmt", "yuv420p", "-threads", "2"]
        arguments += ["-map", "1:a:0", "-t", Reproducible.number(seconds), "-c:a", "aac", "-b:a", "192k"]
        arguments += ["-movflags", "+faststart"] + Reproducible.outputFlags + ["-f", "mp4", output.path]
        try await Reproducible.step("animating the face") {
            try await context.ffmpeg.run(
                arguments, timeout: Reproducible.timeout(forMediaSeconds: seconds),
                onTime: { context.progress(min(1, $0 / seconds), "animating the face") })
        }
        context.progress(1, "animated")
        return StageResult(outputs: ["video": output], metadata: ["duration": .double(seconds)])
    }

    /// The filter graph: input 0 is the still, input 1 the audio; the result is `[v]`.
    ///
    /// The still is cropped and scaled once, then looped (decoding and scaling it per frame is the
    /// main cost otherwise). The light: a ring around the centre, so the face itself stays clear,
    /// multiplied by the audio's loudness (a small waveform averaged down to one pixel and amplified).
    private static func graph(size: Int, fps: Int) -> String {
        let ring = "exp(-pow((hypot(X-W/2,Y-H*0.45)-W*0.46)/(W*0.2),2))"
        let gain = "clip((val-6)*5,0,255)"
        let band = size * 3 / 16
        return [
            "[0:v]crop=w='min(iw,ih)':h='min(iw,ih)',scale=\(size):\(size):flags=lanczos,setsar=1,format=gbrp,"
                + "loop=loop=-1:size=1,setpts=N/(\(fps)*TB)[still]",
            "color=c=black:s=\(size)x\(size):r=1:d=1,format=gbrp,geq=r='180*\(ring)':g='150*\(ring)':b='105*\(ring)',"
                + "loop=loop=-1:size=1,setpts=N/(\(fps)*TB)[ring]",
            "[1:a:0]aformat=channel_layouts=mono,asplit[wave][level]",
            "[wave]showwaves=s=\(size)x\(band):mode=cline:rate=\(fps):colors=white:scale=sqrt,format=rgba,"
                + "colorchannelmixer=aa=0.75[band]",
            "[level]showwaves=s=128x64:mode=cline:rate=\(fps):colors=white,format=gbrp,scale=1:1:flags=area,"
                + "lutrgb=r='\(gain)':g='\(gain)':b='\(gain)',scale=\(size):\(size):flags=neighbor[pulse]",
            "[pulse][ring]blend=all_mode=multiply[glow]",
            "[still][glow]blend=all_mode=screen[lit]",
            "[lit][band]overlay=0:H-h-\(size / 32):shortest=1,format=yuv420p[v]",
        ].joined(separator: ";")
    }
}
