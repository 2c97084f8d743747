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

    /// Writes `subject` to `subjects/NAME.json` (atomically); refuses to replace one unless `replacing`.
    public func save(_ subject: Subject, replacing: Bool = false) throws {
        try Self.checkName(subject.name)
        let file = folder.appendingPathComponent("\(subject.name).json")
        if !replacing, FileManager.default.fileExists(atPath: file.path) {
            throw SubjectError("subject \"\(subject.name)\" already exists (\(file.path))", hint: "give --force to replace it, or choose another name")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try encoder.encode(subject).write(to: file, options: .atomic)
        } catch {
            throw SubjectError("cannot write \(file.path): \(error.localizedDescription)", hint: "check FARM_HOME's permissions")
        }
    }

    /// Whether a subject file named `name` exists (the built-in `demo` does not count).
    public func exists(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: file(for: name).path)
    }

    /// The file that records subject `name`.
    public func file(for name: String) -> URL {
        folder.appendingPathComponent("\(name).json")
    }

    /// Removes a recorded subject.
    public func remove(named name: String) throws {
        let file = folder.appendingPathComponent("\(name).json")
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw SubjectError("no recorded subject \"\(name)\"", hint: "farm subjects list shows them")
        }
        try FileManager.default.removeItem(at: file)
    }

    /// A subject name is a file name: letters, digits, `-` and `_`.
    public static func checkName(_ name: String) throws {
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw SubjectError("\"\(name)\" is not a usable subject name", hint: "use letters, digits, - and _ (at most 64)")
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
