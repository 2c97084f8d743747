import FarmKit
import Foundation

extension Artifact {
    /// An artifact for a file outside any store, for feeding stages in tests (the digest is a stand-in).
    public static func testFile(_ url: URL, _ kind: MediaKind) -> Artifact {
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int64) ?? 0
        return Artifact(digest: "test:" + url.lastPathComponent, path: url, kind: kind, size: size)
    }
}
