import Foundation

/// The subjects a user has recorded: one plain JSON file each in `FARM_HOME/subjects/NAME.json`,
/// plus the built-in `demo` subject.
public struct SubjectCatalog: Sendable {
    public let folder: URL

    public init(home: URL) {
        folder = home.appendingPathComponent("subjects", isDirectory: true)
    }

    /// The subject named `name`; a clear error names the file or lists the known subjects.
    public func subject(named name: String) throws -> Subject {
        let file = folder.appendingPathComponent("\(name).json")
        guard FileManager.default.fileExists(atPath: file.path) else {
            if name == Subject.demo.name { return .demo }
            throw SubjectError("unknown subject \"\(name)\"",
                               hint: "known subjects: \(names().joined(separator: ", ")) — record one with farm subjects add")
        }
        do {
            let subject = try JSONDecoder().decode(Subject.self, from: Data(contentsOf: file))
            guard subject.name == name else {
                throw SubjectError("\(file.path) names subject \"\(subject.name)\", not \"\(name)\"", hint: "rename the file or fix its \"name\"")
            }
            return subject
        } catch let error as SubjectError {
            throw error
        } catch {
            throw SubjectError("cannot read subject file \(file.path): \(error)", hint: "it must be a JSON object with \"name\" and \"trigger\"")
        }
    }

    /// Every subject name, the built-in `demo` included, sorted.
    public func names() -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let recorded = files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }
        return Set(recorded + [Subject.demo.name]).sorted()
    }
}

/// A missing or unreadable subject.
public struct SubjectError: FarmError {
    public let message: String
    public let hint: String?
    public var exitCode: Int32 { ExitStatus.badInput }

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }
}
