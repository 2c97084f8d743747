import FarmKit
import Foundation

/// `ffmpeg.photo-set`: a folder or zip of photos of a person → the zip image trainers take:
/// `img_<i>.jpg` upright (EXIF orientation applied), at most `max_side` pixels on the long side,
/// each with its `img_<i>.txt` caption when the photo came with one (`photo.txt` next to `photo.jpg`).
struct PhotoSetStage: RenderStage {
    let id = StageID("ffmpeg.photo-set", version: 1)
    let summary = "check and normalise training photos (jpg/png/webp, EXIF-upright, captions kept) into a zip"
    let inputs: [FarmKit.Port] = []
    let outputs = [Port("images", .archive, "zip of img_<i>.jpg and optional img_<i>.txt captions")]
    let parameters = [
        ParamSpec("source", .string, required: true, "a folder or a zip of photos (absolute path)"),
        ParamSpec("min_count", .integer, default: 10, range: 1...1000, "fewest photos accepted"),
        ParamSpec("max_count", .integer, default: 50, range: 1...1000, "most photos accepted"),
        ParamSpec("max_megabytes", .number, default: 30, range: 0.1...1000, "largest photo file accepted"),
        ParamSpec("max_megapixels", .number, default: 60, range: 0.1...1000, "largest photo accepted, in pixels"),
        ParamSpec("min_side", .integer, default: 256, range: 16...4096, "shortest side a photo may have"),
        ParamSpec("max_side", .integer, default: 1536, range: 256...8192, "long side of the photos sent to the trainer"),
    ]

    static let imageExtensions: Set<String> = ["jpg", "jpeg", "png", "webp"]

    func preflight(_ parameters: [String: JSON], in context: PreflightContext) async throws -> Preparation {
        let source = try Self.source(parameters)
        if !Self.isZip(source) { _ = try Self.photos(inFolder: source, parameters) }
        return .none
    }

    func cacheIdentity(_ request: StageRequest, digest: @Sendable (URL) async throws -> String) async throws -> JSON? {
        let source = try Self.source(request.parameters)
        if Self.isZip(source) { return ["source_sha256": .string(try await digest(source))] }
        var files: [String: JSON] = [:]
        for photo in try Self.photos(inFolder: source, request.parameters) {
            files[photo.image.lastPathComponent] = .string(try await digest(photo.image))
            if let caption = photo.caption { files[caption.lastPathComponent] = .string(try await digest(caption)) }
        }
        return ["photos_sha256": .object(JSONObject(files.sorted { $0.key < $1.key }))]
    }

    func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
        let source = try Self.source(request.parameters)
        var folder = source
        if Self.isZip(source) {
            folder = context.scratchFile("photos")
            try await Self.extract(source, to: folder)
        }
        let photos = try Self.photos(inFolder: folder, request.parameters)
        let maxBytes = (request.double("max_megabytes") ?? 30) * 1_000_000
        let maxPixels = (request.double("max_megapixels") ?? 60) * 1_000_000
        let minSide = request.int("min_side") ?? 256
        let maxSide = request.int("max_side") ?? 1536

        var entries: [(name: String, file: URL)] = []
        var captions = 0
        for (index, photo) in photos.enumerated() {
            let name = photo.image.lastPathComponent
            context.progress(Double(index) / Double(photos.count), "checking \(name)")
            let bytes = (try? FileManager.default.attributesOfItem(atPath: photo.image.path)[.size] as? Int) ?? 0
            guard Double(bytes) <= maxBytes else {
                throw StageFailure("photo \(name) is too large (\(bytes / 1_000_000) MB, at most \(Int(maxBytes / 1_000_000)) MB)",
                                   hint: "scale it down or leave it out", isBadInput: true)
            }
            guard let info = try? await context.ffmpeg.probe(photo.image), let video = info.video, video.width > 0, video.height > 0 else {
                throw StageFailure("photo \(name) cannot be read as an image", hint: "use jpg, png or webp files, or leave it out", isBadInput: true)
            }
            guard Double(video.width * video.height) <= maxPixels else {
                throw StageFailure("photo \(name) is huge (\(video.width)×\(video.height))", hint: "scale it down or leave it out", isBadInput: true)
            }
            guard min(video.width, video.height) >= minSide else {
                throw StageFailure("photo \(name) is too small (\(video.width)×\(video.height); the short side needs \(minSide) px)",
                                   hint: "use larger photos (about 1024×1024 is best)", isBadInput: true)
            }
            let orientation = (try? await BlockingIO.run { ExifOrientation.read(photo.image) }) ?? 1
            var filters = ExifOrientation.filters(orientation)
            if max(video.width, video.height) > maxSide {
                let scale = Double(maxSide) / Double(max(video.width, video.height))
                let (w, h) = (Int(Double(video.width) * scale / 2) * 2, Int(Double(video.height) * scale / 2) * 2)
                filters.insert("scale=\(w):\(h)", at: 0)
            }
            let output = context.scratchFile("img_\(index).jpg")
            try await context.ffmpeg.run(
                ["-noautorotate", "-i", photo.image.path] + (filters.isEmpty ? [] : ["-vf", filters.joined(separator: ",")])
                    + ["-frames:v", "1", "-q:v", "2", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", output.path])
            entries.append(("img_\(index).jpg", output))
            if let caption = photo.caption {
                entries.append(("img_\(index).txt", caption))
                captions += 1
            }
        }
        let zip = context.scratchFile("images.zip")
        try await BlockingIO.run { [entries] in try ZipArchive.write(entries, to: zip) }
        context.progress(1, "\(photos.count) photos")
        return StageResult(outputs: ["images": zip], metadata: ["photos": .integer(Int64(photos.count)), "captions": .integer(Int64(captions))])
    }

    struct Photo {
        let image: URL
        let caption: URL?
    }

    static func source(_ parameters: [String: JSON]) throws -> URL {
        let path = parameters["source"]?.stringValue ?? ""
        var isFolder: ObjCBool = false
        guard !path.isEmpty, FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw StageFailure("photos not found: \(path)", hint: "give --photos a folder or a zip of 10–20 photos", isBadInput: true)
        }
        let url = URL(fileURLWithPath: path)
        guard isFolder.boolValue || isZip(url) else {
            throw StageFailure("photos must be a folder or a .zip: \(path)", hint: "give --photos a folder or a zip of 10–20 photos", isBadInput: true)
        }
        return url
    }

    static func isZip(_ url: URL) -> Bool { url.pathExtension.lowercased() == "zip" }

    /// The photos in `folder` (sorted by name) with their captions; checks the count.
    static func photos(inFolder folder: URL, _ parameters: [String: JSON]) throws -> [Photo] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        let photos = names.filter { imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }.map { name in
            let caption = folder.appendingPathComponent((name as NSString).deletingPathExtension + ".txt")
            return Photo(image: folder.appendingPathComponent(name),
                         caption: FileManager.default.fileExists(atPath: caption.path) ? caption : nil)
        }
        let minimum = parameters["min_count"]?.intValue ?? 10, maximum = parameters["max_count"]?.intValue ?? 50
        guard photos.count >= minimum else {
            throw StageFailure("only \(photos.count) photo(s) (jpg, png or webp) found, the training needs at least \(minimum)",
                               hint: "add photos of the person (10–20, face clearly visible, ~1024×1024), or lower it with --set photos.min_count=N",
                               isBadInput: true)
        }
        guard photos.count <= maximum else {
            throw StageFailure("\(photos.count) photos found, at most \(maximum) are used", hint: "pick the best \(maximum) or fewer", isBadInput: true)
        }
        return photos
    }

    /// Extracts the images and captions of a zip (flat: folders inside are ignored, hidden files too).
    static func extract(_ zip: URL, to folder: URL) async throws {
        try await BlockingIO.run {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let entries: [ZipArchive.Entry]
            do {
                entries = try ZipArchive.entries(of: zip)
            } catch {
                throw StageFailure("cannot read the photos zip \(zip.lastPathComponent): \(error)", hint: "give a folder instead, or re-make the zip", isBadInput: true)
            }
            for entry in entries where !entry.isDirectory {
                let name = (entry.name as NSString).lastPathComponent
                let ext = (name as NSString).pathExtension.lowercased()
                guard !name.hasPrefix("."), !entry.name.hasPrefix("__MACOSX"), imageExtensions.contains(ext) || ext == "txt" else { continue }
                do {
                    try ZipArchive.contents(of: entry, in: zip).write(to: folder.appendingPathComponent(name))
                } catch {
                    throw StageFailure("cannot read \(entry.name) from \(zip.lastPathComponent): \(error)", isBadInput: true)
                }
            }
        }
    }
}
