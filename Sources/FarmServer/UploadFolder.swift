import FarmKit
import Foundation
import ServiceLifecycle
import Synchronization

/// The studio's uploaded songs (`studio/uploads/<id>.<ext>`), and their clean-up: an upload is
/// kept while a waiting or running render names it, and otherwise for `retention` after it was
/// uploaded or last submitted. Partial uploads (`.<id>.part`) left by a stopped server go at start.
///
/// Submitting claims the file (refreshing its time) under the same lock the sweep deletes under,
/// so a file is never removed between a submission finding it and the queue naming it.
final class UploadFolder: Sendable {
    let url: URL
    let retention: Duration
    private let lock = Mutex(())

    init(url: URL, retention: Duration) {
        self.url = url
        self.retention = retention
    }

    /// The retention as `--keep-uploads` writes it: `7d`, `24h`, `30m` or `90s`.
    var retentionText: String {
        let seconds = Double(retention.components.seconds) + Double(retention.components.attoseconds) / 1e18
        for (unit, size) in [("d", 86400.0), ("h", 3600.0), ("m", 60.0)] where seconds >= size && seconds.truncatingRemainder(dividingBy: size) == 0 {
            return "\(Int(seconds / size))\(unit)"
        }
        return seconds == seconds.rounded() ? "\(Int(seconds))s" : String(format: "%.1fs", seconds)
    }

    /// The upload `id` with any of `extensions`, its time refreshed so no sweep removes it now;
    /// nil when there is none. Blocking: call through `blocking`.
    func claim(_ id: String, extensions: Set<String>) -> URL? {
        lock.withLock { _ in
            let found = extensions.sorted().map { url.appendingPathComponent("\(id).\($0)") }
                .first { FileManager.default.fileExists(atPath: $0.path) }
            if let found { try? FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: found.path) }
            return found
        }
    }

    /// Removes uploads older than the retention whose file names are not in `needed`, and partial
    /// uploads that old (every partial one when `startup`: no upload is in flight then).
    /// Blocking: call through `blocking`.
    func sweep(keeping needed: Set<String>, startup: Bool) {
        let cutoff = Date().addingTimeInterval(-(Double(retention.components.seconds) + Double(retention.components.attoseconds) / 1e18))
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        for name in names where !needed.contains(name) {
            let partial = name.hasPrefix(".") && name.hasSuffix(".part")
            lock.withLock { _ in
                let path = url.appendingPathComponent(name).path
                // Read under the lock: a claim may have refreshed it since the listing.
                guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date else { return }
                guard (partial && startup) || modified < cutoff else { return }
                try? FileManager.default.removeItem(atPath: path)
            }
        }
    }

    /// The file names of uploads that waiting or running renders name.
    static func needed(by store: Store, in folder: URL) async throws -> Set<String> {
        let entries = try await store.queueEntries(states: [.queued, .running], limit: Int.max)
        return Set(entries.compactMap { entry in
            guard let song = entry.request["song"]?.stringValue else { return nil }
            let file = URL(fileURLWithPath: song)
            return file.deletingLastPathComponent().standardizedFileURL.path == folder.standardizedFileURL.path ? file.lastPathComponent : nil
        })
    }
}

/// Sweeps the upload folder every half retention (at most every 10 minutes, at least every
/// second) while the server runs.
struct UploadSweeper: Service {
    let folder: UploadFolder
    let store: Store

    /// One sweep now: what waiting and running renders need is read first, then the rest is swept.
    func sweep(startup: Bool = false) async throws {
        let needed = try await UploadFolder.needed(by: store, in: folder.url)
        let folder = folder
        try await blocking { folder.sweep(keeping: needed, startup: startup) }
    }

    func run() async throws {
        let interval = min(max(folder.retention / 2, .seconds(1)), .seconds(600))
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled else { return }
                try? await sweep()
            }
        }
    }
}
