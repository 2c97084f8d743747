import ArgumentParser
import FarmKit
import Foundation

struct SubjectsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subjects",
        abstract: "Record and inspect subjects: a person's trigger word, image model and voice model.",
        discussion: "Subjects are plain JSON files in $FARM_HOME/subjects; `demo` is built in.",
        subcommands: [List.self, Show.self, Add.self, Remove.self, Publish.self, Export.self, Import.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the subjects.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await reportingErrors {
                let catalog = SubjectCatalog(home: store.homeURL)
                var rows = [["name", "trigger", "image model", "voice model"]]
                for name in catalog.names() {
                    let subject = try catalog.subject(named: name)
                    rows.append([subject.name, subject.trigger, subject.imageModel ?? "-", subject.voiceModel ?? "-"])
                }
                print(Console.table(rows), terminator: "")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a subject's record as JSON.")
        @Argument(help: "The subject's name.") var name: String
        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await reportingErrors {
                let subject = try SubjectCatalog(home: store.homeURL).subject(named: name)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(subject), as: UTF8.self))
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a subject whose models are already trained.",
            discussion: """
                Example:
                  farm subjects add alice --trigger TOK --lora alice/alice-flux:0123…cdef \\
                    --voice https://huggingface.co/alice/voice/resolve/main/alice.zip --pitch male-to-female
                """)

        @Argument(help: "The subject's name (letters, digits, - and _).") var name: String
        @Option(help: "The trigger word the image model was trained with.") var trigger: String
        @Option(help: ArgumentHelp("The FLUX LoRA model, owner/name:VERSION (or a FLUX pro finetune id).", valueName: "model"))
        var lora: String?
        @Option(help: ArgumentHelp("Public URL of the RVC v2 voice model zip.", valueName: "url")) var voice: String?
        @Option(help: "The voice model's pitch relation: no-change, male-to-female or female-to-male.") var pitch: String?
        @Flag(help: "Replace a subject of the same name.") var force = false
        @OptionGroup var store: StoreOptions

        func validate() throws {
            if trigger.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--trigger must not be empty") }
            if let pitch, !["no-change", "male-to-female", "female-to-male"].contains(pitch) {
                throw ValidationError("--pitch \(pitch): takes no-change, male-to-female or female-to-male")
            }
            if let voice, !(voice.hasPrefix("https://") || voice.hasPrefix("http://")) {
                throw ValidationError("--voice takes the http(s) URL of the voice model zip")
            }
        }

        func run() async throws {
            try await reportingErrors {
                let subject = Subject(name: name, trigger: trigger, imageModel: lora, voiceModel: voice, pitch: pitch)
                try SubjectCatalog(home: store.homeURL).save(subject, replacing: force)
                print("recorded subject \(name); render with: farm render --profile vivid --subject \(name) --song FILE")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Forget a recorded subject (its cached renders stay).")
        @Argument(help: "The subject's name.") var name: String
        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await reportingErrors {
                try SubjectCatalog(home: store.homeURL).remove(named: name)
                print("removed subject \(name)")
            }
        }
    }

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish a trained subject's voice model to the configured S3-compatible bucket.",
            discussion: """
                The RVC model downloads the voice zip itself, without credentials, from a plain URL named \
                <slug>.zip; farm puts it there as a public object and records the URL. Configure the bucket \
                with FARM_S3_BUCKET, FARM_S3_ENDPOINT, FARM_S3_REGION, FARM_S3_PREFIX, FARM_S3_PUBLIC_URL, \
                FARM_S3_ACL and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (see the README).

                Example: FARM_S3_BUCKET=voices farm subjects publish alice
                """)
        @Argument(help: "The subject's name.") var name: String
        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await reportingErrors {
                guard let bucket = try S3Bucket.fromEnvironment() else {
                    throw UsageError("no bucket is configured to publish to", hint: S3Bucket.setupHint)
                }
                let subject = try await VoicePublisher(home: store.homeURL, bucket: bucket).publish(subject: name)
                print("published the voice model of \(name): \(subject.voiceModel ?? "")")
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a subject and its voice model zip to one file.",
            discussion: "Example: farm subjects export alice --out alice.subject.zip")
        @Argument(help: "The subject's name.") var name: String
        @Option(name: .customLong("out"), help: ArgumentHelp("The file to write (default NAME.subject.zip).", valueName: "path")) var output: String?
        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await reportingErrors {
                let destination = URL(fileURLWithPath: output ?? "\(name).subject.zip")
                try await SubjectArchive(home: store.homeURL).export(name, to: destination)
                print(destination.path)
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a subject from a file made by farm subjects export.",
            discussion: "Example: farm subjects import alice.subject.zip")
        @Argument(help: "The exported subject file.") var file: String
        @Flag(help: "Replace a subject of the same name.") var force = false
        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await reportingErrors {
                let subject = try await SubjectArchive(home: store.homeURL).importSubject(from: URL(fileURLWithPath: file), replacing: force)
                print("imported subject \(subject.name); render with: farm render --profile vivid --subject \(subject.name) --song FILE")
            }
        }
    }
}
