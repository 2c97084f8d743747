import FFmpegProvider
import FarmKit
import FetchProvider
import Foundation
import FuzzSupport
import OfflineProvider
import ReplicateProvider

/// Profiles from any bytes. The input is up to three sections separated by the byte 0x1E:
/// the profile file `fuzz.json`, the file `base.json` it may extend, and `--set` lines.
/// `extends` also reaches the built-in profiles (`vivid`, `offline`, …).
///
/// Properties: loading and resolving (with and without missing parameters allowed) never crash
/// or hang and fail only with a `ProfileError`; a resolved plan has every stage once, each after
/// its dependencies, with its inputs and the output wired to stages of the plan; a parsed `--set`
/// names a stage and a parameter and parses back the same from its own spelling.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzProfiles(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let sections = fuzzBytes(data, size).split(separator: 0x1E, maxSplits: 2, omittingEmptySubsequences: false)
    Files.write(sections[0], as: "fuzz")
    Files.write(sections.count > 1 ? sections[1] : nil, as: "base")

    var overrides = ProfileResolver.Overrides()
    if sections.count > 2 {
        for line in String(decoding: sections[2], as: UTF8.self).split(separator: "\n") {
            if let override = checkedOverride(String(line)) { overrides.parameters.append(override) }
        }
    }
    do {
        let profile = try Files.library.load("fuzz")
        overrides.inputs = Dictionary(uniqueKeysWithValues: profile.inputs.keys.map { ($0, "song.mp3") })
        for allowsMissing in [true, false] {
            overrides.allowsMissingParameters = allowsMissing
            do {
                checkPlan(try Files.resolver.resolve(profile, subject: Files.subject, overrides: overrides), of: profile)
            } catch let error as ProfileError {
                require(!error.problem.isEmpty, "a ProfileError without a problem")
            }
        }
    } catch is ProfileError {
    } catch {
        require(false, "not a ProfileError: \(type(of: error)): \(error)")
    }
    return 0
}

/// Parses one `--set` text and checks the result; nil when it is refused.
func checkedOverride(_ text: String) -> ParameterOverride? {
    do {
        let override = try ParameterOverride(parsing: text)
        require(!override.stage.isEmpty && !override.parameter.isEmpty, "empty stage or parameter from \(text)")
        require(!override.stage.contains("."), "stage \(override.stage) contains a dot (from \(text))")
        let spelled = "\(override.stage).\(override.parameter)=\(override.value.compactString)"
        let again = try? ParameterOverride(parsing: spelled)
        require(again == override, "\(spelled) parses differently from \(text)")
        return override
    } catch is ProfileError {
        return nil
    } catch {
        require(false, "--set \(text): not a ProfileError: \(type(of: error)): \(error)")
        return nil
    }
}

func checkPlan(_ plan: RenderPlan, of profile: Profile) {
    let names = plan.nodes.map(\.name)
    require(names.count == profile.stages.count && Set(names) == Set(profile.stages.map(\.name)), "plan stages \(names)")
    var done = Set<String>()
    for node in plan.nodes {
        require(node.dependencies.isSubset(of: done), "\(node.name) comes before its dependencies \(node.dependencies)")
        require(node.inputs.values.allSatisfy { node.dependencies.contains($0.stage) }, "\(node.name) reads a stage it does not depend on")
        done.insert(node.name)
    }
    require(done.contains(plan.output.stage), "the output \(plan.output) is not a stage of the plan")
}

/// The profile folder, written for each input, and what resolving needs.
enum Files {
    static let folder: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("farm-fuzz-profiles-\(getpid())")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: Files.folder) }
        return url
    }()
    /// The built-in profiles of this checkout.
    static let builtIn = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../profiles").standardizedFileURL
    static let library = ProfileLibrary(searchPath: [folder, builtIn])
    static let resolver = ProfileResolver(
        registry: ProviderRegistry([FetchProvider(), FFmpegProvider(), OfflineProvider(), ReplicateProvider()]))
    static let subject = Subject(
        name: "alice", trigger: "TOK",
        imageModel: "alice/flux-lora:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        voiceModel: "https://example.com/alice-voice.zip", pitch: "male-to-female")

    /// Writes `NAME.json` as a new file, or removes it for nil. Plain system calls: `Data.write`
    /// syncs the file to disk, and ext4 flushes a file truncated and rewritten on close; either
    /// made runs 30–50 times slower.
    static func write(_ bytes: Slice<UnsafeRawBufferPointer>?, as name: String) {
        let path = folder.appendingPathComponent("\(name).json").path
        unlink(path)
        guard let bytes else { return }
        let file = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        require(file >= 0, "cannot create \(path)")
        let buffer = UnsafeRawBufferPointer(rebasing: bytes)
        require(buffer.isEmpty || Glibc.write(file, buffer.baseAddress, buffer.count) == buffer.count, "cannot write \(path)")
        close(file)
    }
}

runFuzzer("fuzz-profiles", fuzzProfiles)
