import Foundation

/// A problem with the store under `FARM_HOME`: each message names the path involved.
public enum StoreError: FarmError, Equatable {
    /// FARM_HOME exists but is a file.
    case notAFolder(URL)
    /// FARM_HOME is a folder farm may not write.
    case notWritable(URL)
    /// FARM_HOME does not exist and cannot be made.
    case cannotCreate(URL, reason: String)
    /// `farm.sqlite` is not a database or is damaged.
    case corruptDatabase(URL, detail: String)
    /// Another process held the database's write lock for longer than the busy timeout.
    case busy(URL)
    /// Any other SQLite failure.
    case database(URL, detail: String)
    /// A file to import or hash cannot be read.
    case unreadable(URL, reason: String)
    /// Writing into the store failed (disk full, permissions, …).
    case writeFailed(URL, reason: String)
    /// An artifact that should be in the store is not (removed by gc or by hand).
    case artifactMissing(digest: String, path: URL)
    /// No run has this id (or id prefix).
    case unknownRun(String)
    /// A run id prefix matches more than one run.
    case ambiguousRunID(String, matches: [String])

    public var message: String {
        switch self {
        case .notAFolder(let url): "FARM_HOME \(url.path) is not a folder"
        case .notWritable(let url): "FARM_HOME \(url.path) is not writable"
        case .cannotCreate(let url, let reason): "cannot create FARM_HOME \(url.path): \(reason)"
        case .corruptDatabase(let url, let detail): "the farm database \(url.path) is damaged: \(detail)"
        case .busy(let url): "the farm database \(url.path) stayed locked by another farm process"
        case .database(let url, let detail): "the farm database \(url.path) failed: \(detail)"
        case .unreadable(let url, let reason): "cannot read \(url.path): \(reason)"
        case .writeFailed(let url, let reason): "cannot write \(url.path): \(reason)"
        case .artifactMissing(let digest, let path): "artifact \(digest.prefix(12)) is missing from the store (\(path.path))"
        case .unknownRun(let id): "no run has the id \(id)"
        case .ambiguousRunID(let prefix, let matches):
            "run id \(prefix) is ambiguous: it starts \(matches.count) runs ("
                + matches.prefix(5).joined(separator: ", ") + (matches.count > 5 ? ", …)" : ")")
        }
    }

    public var hint: String? {
        switch self {
        case .notAFolder: "set FARM_HOME to a folder, or to a path where farm may create one"
        case .notWritable, .cannotCreate: "set FARM_HOME to a folder you can write, or fix its permissions"
        case .corruptDatabase(let url, _):
            "move \(url.lastPathComponent) aside and farm starts a fresh one "
                + "(artifacts stay; cached results and run history are lost)"
        case .busy: "wait for the other farm command to finish, then try again"
        case .database, .writeFailed: "check the free disk space and the permissions of FARM_HOME"
        case .unreadable: nil
        case .artifactMissing: "it was removed by `farm cache gc` or by hand; run the stage again"
        case .unknownRun: "`farm runs list` shows the recorded runs"
        case .ambiguousRunID: "type more of the run id"
        }
    }

    public var exitCode: Int32 {
        switch self {
        case .notAFolder, .notWritable, .cannotCreate, .unreadable, .unknownRun, .ambiguousRunID: ExitStatus.badInput
        case .corruptDatabase, .busy, .database, .writeFailed, .artifactMissing: ExitStatus.stageFailed
        }
    }
}
