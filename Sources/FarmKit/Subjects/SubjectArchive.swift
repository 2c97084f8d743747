import Foundation

/// `farm subjects export|import`: a subject as one zip, `subject.json` plus its voice model zip
/// (`<slug>.zip`) when the store has it, to move a subject to another machine or keep it safe.
public struct SubjectArchive: Sendable {
    public let home: URL

    public init(home: URL) {
        self.home = home
    }

    /// Writes subject `name` (and its voice zip) to `destination`.
    public func export(_ name: String, to destination: URL) async throws {
        let catalog = SubjectCatalog(home: home)
        let subject = try catalog.subject(named: name)
        var entries: [(name: String, file: URL)] = [("subject.json", catalog.file(for: name))]
        if let digest = subject.voiceZip {
            guard let zip = try await Store(home: home).artifact(digest: digest) else {
                throw SubjectError("the voice model zip of \(name) is no longer in the store (\(digest.prefix(12)))",
                                   hint: "train the subject again (farm train … --force); stages still cached cost nothing")
            }
            entries.append(("\(subject.slug ?? name).zip", zip.path))
        }
        let final = entries
        try await BlockingIO.run {
            let temp = destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).part")
            do {
                try ZipArchive.write(final, to: temp)
                guard rename(temp.path, destination.path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            } catch {
                try? FileManager.default.removeItem(at: temp)
                throw SubjectError("cannot write \(destination.path): \(PublishError.reason(error))", hint: "choose another --out in a folder you can write")
            }
        }
    }

    /// Records the subject in `archive`; its voice zip goes into the store, checked against the
    /// digest the subject names. Returns the subject.
    public func importSubject(from archive: URL, replacing: Bool) async throws -> Subject {
        let (subject, voice) = try await BlockingIO.run { () throws -> (Subject, Data?) in
            let entries: [ZipArchive.Entry]
            do {
                entries = try ZipArchive.entries(of: archive)
            } catch {
                throw SubjectError("\(archive.path) is not a subject archive: \(error)", hint: "make one with farm subjects export NAME")
            }
            guard let json = entries.first(where: { $0.name == "subject.json" }),
                  let subject = try? JSONDecoder().decode(Subject.self, from: ZipArchive.contents(of: json, in: archive)) else {
                throw SubjectError("\(archive.path) holds no readable subject.json", hint: "make one with farm subjects export NAME")
            }
            let voice = try entries.first { $0.name != "subject.json" && $0.name.hasSuffix(".zip") }.map { try ZipArchive.contents(of: $0, in: archive) }
            return (subject, voice)
        }
        try SubjectCatalog.checkName(subject.name)
        let catalog = SubjectCatalog(home: home)
        if !replacing, catalog.exists(subject.name) {
            throw SubjectError("subject \"\(subject.name)\" already exists", hint: "give --force to replace it")
        }
        let store = try Store(home: home)
        var digest: String?
        if let voice {
            let temp = store.temporaryURL("import")
            try await BlockingIO.run { try voice.write(to: temp) }
            let artifact = try await store.importFile(at: temp, kind: .archive, move: true)
            guard subject.voiceZip == nil || subject.voiceZip == artifact.digest else {
                throw SubjectError("the voice zip in \(archive.lastPathComponent) does not match the subject's voice_zip_sha256",
                                   hint: "the archive is damaged: export it again")
            }
            digest = artifact.digest
        }
        try catalog.save(subject, replacing: replacing)
        // A finished run holds the voice zip, so farm cache gc keeps it.
        let run = try await store.createRun(NewRun(profile: "-", subject: subject.name, song: "", request: ["kind": "import", "archive": .string(archive.path)]))
        try await store.finishRun(id: run.id, status: .succeeded, output: catalog.file(for: subject.name).path, outputDigest: digest, error: nil)
        return subject
    }
}
