import FarmKit
import Foundation

/// `offline.train-voice`, the stand-in for RVC training: a dataset zip → a voice model zip laid
/// out as `replicate/train-rvc-model` makes it (`<slug>.pth`, `added_…_<slug>_v2.index`,
/// `total_fea.npy`, flat), whose files are small deterministic fakes derived from the dataset.
struct OfflineVoiceTrainerStage: RenderStage {
    let id = StageID("offline.train-voice", version: 1)
    let summary = "fake RVC training: a well-formed voice model zip (.pth, .index) derived from the dataset"
    let inputs = [Port("dataset", .archive, "zip of dataset/<slug>/split_<i>.wav")]
    let outputs = [Port("voice_model", .archive, "<slug>.zip with <slug>.pth, an .index and total_fea.npy")]
    let parameters = [
        ParamSpec("epoch", .integer, default: 80, range: 1...1000, "recorded only: the fake does not train"),
        ParamSpec("version", .string, default: "v2", choices: ["v1", "v2"], "RVC model version, in the file names"),
    ]

    func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
        let dataset = try request.input("dataset")
        let version = request.string("version") ?? "v2"
        context.progress(0, "reading the dataset")
        let slug = try await BlockingIO.run { try DatasetLayout.slug(of: dataset.path) }
        let fingerprint = "farm offline fake RVC \(version) model\nslug \(slug)\ndataset \(dataset.digest)\nepoch \(request.int("epoch") ?? 80)\n"
        let files = [
            ("\(slug).pth", fingerprint),
            ("added_IVF1_Flat_nprobe_1_\(slug)_\(version).index", "farm offline fake index\n" + fingerprint),
            ("total_fea.npy", "farm offline fake features\n" + fingerprint),
        ]
        var entries: [(name: String, file: URL)] = []
        for (name, text) in files {
            let file = context.scratchFile(name)
            try await BlockingIO.run { try Data(text.utf8).write(to: file) }
            entries.append((name, file))
        }
        let zip = context.scratchFile("\(slug).zip")
        try await BlockingIO.run { [entries] in try ZipArchive.write(entries, to: zip) }
        context.progress(1, "voice model \(slug).zip")
        return StageResult(outputs: ["voice_model": zip], metadata: [
            "slug": .string(slug),
            "training": ["trainer": "offline.train-voice", "epoch": .integer(Int64(request.int("epoch") ?? 80)), "version": .string(version)],
        ])
    }
}

/// The one folder under `dataset/` that names an RVC dataset.
enum DatasetLayout {
    static func slug(of zip: URL) throws -> String {
        let entries = try ZipArchive.entries(of: zip)
        let folders = Set(entries.compactMap { entry -> String? in
            let parts = entry.name.split(separator: "/")
            return parts.count >= 3 && parts[0] == "dataset" ? String(parts[1]) : nil
        })
        guard folders.count == 1, let slug = folders.first else {
            throw StageFailure("the dataset zip must hold exactly one folder under dataset/, it has \(folders.count)")
        }
        return slug
    }
}
