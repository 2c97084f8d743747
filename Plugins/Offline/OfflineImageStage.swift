import FarmKit
import Foundation

/// `offline.image`, the stand-in for FLUX: a card with a stylised singer whose colours, hair and
/// lights follow the seed and the prompt, and the prompt written across the top.
struct OfflineImageStage: RenderStage {
    let id = StageID("offline.image", version: 1)
    let summary = "fake portrait: a stylised singer with the prompt written on it (stands in for FLUX)"
    let inputs: [FarmKit.Port] = []
    let outputs = [Port("image", .image, "PNG, RGB")]
    let parameters = [
        ParamSpec("prompt", .string, required: true, "the text written on the card; also varies the picture"),
        ParamSpec("seed", .integer, default: 1, "varies colours, hair, lights and the microphone side"),
        ParamSpec("width", .integer, default: 1024, range: 256...2048, "pixels"),
        ParamSpec("height", .integer, default: 1024, range: 256...2048, "pixels"),
    ]

    static let font = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

    func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
        let prompt = request.string("prompt") ?? ""
        let seed = request.int("seed") ?? 1
        let width = request.int("width") ?? 1024, height = request.int("height") ?? 1024
        guard FileManager.default.fileExists(atPath: Self.font) else {
            throw StageFailure("font not found: \(Self.font)", hint: "install it: sudo apt-get install fonts-dejavu-core")
        }

        context.progress(0, "drawing the portrait")
        let raw = context.scratchFile("portrait.rgb")
        var temporaryFiles = [raw]
        defer { for file in temporaryFiles { try? FileManager.default.removeItem(at: file) } }
        try await Reproducible.step("writing the portrait") {
            try Data(Portrait(seed: seed, prompt: prompt).render(width: width, height: height)).write(to: raw)
        }

        context.progress(0.7, "writing the prompt")
        let unit = Double(min(width, height))
        let fontSize = (unit * 0.042).rounded()
        let lineHeight = (fontSize * 1.3).rounded(), margin = (unit * 0.035).rounded()
        let lines = CardText.lines(prompt, fontSize: fontSize, maxWidth: Double(width) * 0.9, maxLines: 3)
        var texts: [(text: String, size: Double, color: String, baseline: Double)] = lines.enumerated().map { index, line in
            (line, fontSize, "white", margin + fontSize * 0.8 + Double(index) * lineHeight)
        }
        texts.append(("OFFLINE PREVIEW · SEED \(seed)", max(10, (unit * 0.02).rounded()), "white@0.6", Double(height) - unit * 0.025))

        var filters = ["format=rgb24"]
        if !lines.isEmpty {
            let band = Int(2 * margin + Double(lines.count - 1) * lineHeight + fontSize)
            filters.append("drawbox=x=0:y=0:w=iw:h=\(band):color=black@0.35:t=fill")
        }
        let shadow = max(1, Int(unit / 512))
        for (index, text) in texts.enumerated() {
            // Text travels in a file, so no character of the prompt needs escaping; expansion=none keeps `%` literal.
            let file = context.scratchFile("text-\(index).txt")
            temporaryFiles.append(file)
            try await Reproducible.step("writing the prompt") { try Data(text.text.utf8).write(to: file) }
            filters.append(
                "drawtext=fontfile=\(Reproducible.filterValue(Self.font)):textfile=\(Reproducible.filterValue(file.path))"
                    + ":expansion=none:fontsize=\(Int(text.size)):fontcolor=\(text.color)"
                    + ":shadowcolor=black@0.6:shadowx=\(shadow):shadowy=\(shadow)"
                    + ":x=(w-text_w)/2:y=\(Int(text.baseline.rounded()))-max_glyph_a")
        }

        let output = context.scratchFile("image.png")
        try await Reproducible.step("drawing the card with ffmpeg") {
            try await context.ffmpeg.run(
                ["-f", "rawvideo", "-pixel_format", "rgb24", "-video_size", "\(width)x\(height)", "-framerate", "1", "-i", raw.path,
                 "-vf", filters.joined(separator: ","), "-frames:v", "1", "-c:v", "png", "-pix_fmt", "rgb24"]
                    + Reproducible.outputFlags + ["-f", "image2", "-update", "1", output.path])
        }
        context.progress(1, "drawn")
        return StageResult(
            outputs: ["image": output],
            metadata: ["width": .integer(Int64(width)), "height": .integer(Int64(height))])
    }
}
