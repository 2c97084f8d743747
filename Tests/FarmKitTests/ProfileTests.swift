import FarmKit
import Foundation
import Testing

/// A two-branch graph: `a` and `b` are independent, `both` joins them.
private let diamond = """
    {
      "description": "test graph",
      "inputs": { "words": "a.text" },
      "stages": {
        "a": { "use": "test.text", "with": { "text": "hello {{subject.trigger}}" } },
        "b": { "use": "test.text", "preset": "slow", "with": { "text": "world" } },
        "both": { "use": "test.join", "from": { "a": "a.text", "b": "b.text" } }
      },
      "presets": { "test.text": { "slow": { "delay": 0.2, "mode": "loud" } } },
      "output": "both.joined"
    }
    """

@Suite struct ProfileTests {
    @Test func resolvesStagesInDependencyOrderWithPresetsDefaultsAndSubject() throws {
        let fixture = try ProfileFixture()
        defer { fixture.folder.remove() }
        try fixture.write("base", diamond)
        let plan = try fixture.plan("base")
        #expect(plan.nodes.map(\.name) == ["a", "b", "both"])
        #expect(plan.node("a")!.parameters["text"] == "hello DEMO")
        #expect(plan.node("a")!.parameters["delay"] == 0)
        #expect(plan.node("b")!.parameters["delay"] == 0.2)
        #expect(plan.node("b")!.parameters["mode"] == "loud")
        #expect(plan.node("both")!.dependencies == ["a", "b"])
        #expect(plan.output.description == "both.joined")
        #expect(plan.limits == ["test": 4])
    }

    @Test func extendsMergesFieldsAndSetAndInputsOverride() throws {
        let fixture = try ProfileFixture()
        defer { fixture.folder.remove() }
        try fixture.write("base", diamond)
        try fixture.write("child", """
            { "extends": "base", "stages": { "b": { "with": { "text": "moon" } }, "both": { "with": { "separator": " & " } } }, "limits": { "test": 1 } }
            """)
        let overrides = ProfileResolver.Overrides(
            parameters: [try ParameterOverride(parsing: "b.delay=0.5"), try ParameterOverride(parsing: "both.separator=-")],
            inputs: ["words": "from the command line"])
        let plan = try fixture.plan("child", overrides: overrides)
        #expect(plan.profile.files.map { URL(fileURLWithPath: $0).lastPathComponent } == ["child.json", "base.json"])
        #expect(plan.node("a")!.parameters["text"] == "from the command line")
        #expect(plan.node("b")!.parameters["text"] == "moon")
        #expect(plan.node("b")!.parameters["mode"] == "loud")
        #expect(plan.node("b")!.parameters["delay"] == 0.5)
        #expect(plan.node("both")!.parameters["separator"] == "-")
        #expect(plan.limits == ["test": 1])
    }

    @Test func changingUseDropsInheritedParametersButKeepsWiring() throws {
        let fixture = try ProfileFixture()
        defer { fixture.folder.remove() }
        try fixture.write("base", diamond)
        try fixture.write("child", #"{ "extends": "base", "stages": { "both": { "use": "test.join", "with": {} }, "b": { "use": "test.fail" } } }"#)
        let plan = try fixture.plan("child")
        #expect(plan.node("b")!.implementation.id.name == "test.fail")
        #expect(plan.node("b")!.parameters["text"] == nil)
        #expect(plan.node("b")!.preset == nil)
        #expect(plan.node("both")!.inputs["a"]?.description == "a.text")
    }

    @Test func parameterOverrideReadsJSONOrPlainText() throws {
        #expect(try ParameterOverride(parsing: "portrait.seed=7").value == 7)
        #expect(try ParameterOverride(parsing: "portrait.fast=true").value == true)
        #expect(try ParameterOverride(parsing: "portrait.prompt=a=b c").value == "a=b c")
        #expect(try ParameterOverride(parsing: "portrait.prompt=\"7\"").value == "7")
        #expect(throws: ProfileError.self) { try ParameterOverride(parsing: "portrait.seed") }
        #expect(throws: ProfileError.self) { try ParameterOverride(parsing: "seed=7") }
    }

    @Test func swapDropsParametersTheNewStageDoesNotTakeAndReportsThem() throws {
        let fixture = try ProfileFixture()
        defer { fixture.folder.remove() }
        try fixture.write("base", """
            { "stages": { "a": { "use": "test.fail", "with": { "delay": 0 } }, "b": { "use": "test.text", "with": { "text": "x", "mode": "loud" } } },
              "output": "a.text" }
            """)
        try fixture.write("swapped", #"{ "extends": "base", "swap": { "test.text": "test.fail" } }"#)
        let plan = try fixture.plan("swapped")
        #expect(plan.node("b")!.implementation.id.name == "test.fail")
        #expect(plan.node("b")!.swappedFrom == "test.text")
        #expect(plan.node("b")!.ignoredParameters == ["text", "mode"])
    }

    @Test func unknownProfileSuggestsTheClosestName() throws {
        let fixture = try ProfileFixture()
        defer { fixture.folder.remove() }
        try fixture.write("offline", diamond)
        let error = fixture.error { _ = try fixture.library.load("ofline") }
        #expect(error?.problem.contains("unknown profile \"ofline\"") == true)
        #expect(error?.hint?.contains("did you mean \"offline\"") == true)
        #expect(error?.exitCode == 2)
    }

    @Test func invalidJSONNamesFileLineAndColumn() throws {
        let fixture = try ProfileFixture()
        defer { fixture.folder.remove() }
        try fixture.write("broken", "{\n  \"stages\": {\n    \"a\": { \"use\": \"test.text\", }\n  }\n}\n")
        let error = fixture.error { _ = try fixture.library.load("broken") }
        #expect(error?.file.hasSuffix("broken.json") == true)
        #expect(error?.message.contains("line 3") == true)
        #expect(error?.hint?.contains("broken.json:3:") == true)
    }

    @Test(arguments: [
        // (profile body, expected stage, expected field, expected words in the problem)
        (#"{ "stages": { "a": { "use": "test.text", "with": { "text": "x", "colour": 1 } } }, "output": "a.text" }"#, "a", "with.colour", "no parameter \"colour\""),
        (#"{ "stages": { "a": { "use": "test.text", "with": { "text": "x", "delay": "slow" } } }, "output": "a.text" }"#, "a", "with.delay", "expected number"),
        (#"{ "stages": { "a": { "use": "test.text", "with": { "text": "x", "delay": 99 } } }, "output": "a.text" }"#, "a", "with.delay", "outside 0…10"),
        (#"{ "stages": { "a": { "use": "test.text", "with": { "text": "x", "mode": "quiet" } } }, "output": "a.text" }"#, "a", "with.mode", "not one of"),
        (#"{ "stages": { "a": { "use": "test.text" } }, "output": "a.text" }"#, "a", "with.text", "required parameter is missing"),
        (#"{ "stages": { "a": { "use": "elsewhere.text" } }, "output": "a.text" }"#, "a", "use", "provider \"elsewhere\" is not available"),
        (#"{ "stages": { "a": { "use": "test.txt" } }, "output": "a.text" }"#, "a", "use", "unknown stage \"test.txt\""),
        (#"{ "stages": { "a": { "with": {} } }, "output": "a.text" }"#, "a", "use", "missing"),
        (#"{ "stages": { "a": { "use": "test.text", "with": { "text": "x" }, "preset": "fast" } }, "output": "a.text" }"#, "a", "preset", "unknown preset \"fast\""),
        (#"{ "stages": { "a": { "use": "test.text", "with": { "text": "x" } }, "j": { "use": "test.join", "from": { "a": "a.text" } } }, "output": "j.joined" }"#, "j", "from.b", "is not connected"),
        (#"{ "stages": { "a": { "use": "test.text", "with": { "text": "x" } }, "j": { "use": "test.join", "from": { "a": "a.text", "b": "nope.text" } } }, "output": "j.joined" }"#, "j", "from.b", "no stage named \"nope\""),
        (#"{ "stages": { "a": { "use": "test.text", "with": { "text": "x" } }, "j": { "use": "test.join", "from": { "a": "a.text", "b": "a.words" } } }, "output": "j.joined" }"#, "j", "from.b", "has no output \"words\""),
        (#"{ "stages": { "a": { "use": "test.text", "with": { "text": "x" } }, "j": { "use": "test.join", "from": { "a": "a.text", "c": "a.text" } } }, "output": "j.joined" }"#, "j", "from.c", "has no input \"c\""),
        (#"{ "stages": { "a": { "use": "test.text", "with": { "text": "{{subject.shoe_size}}" } } }, "output": "a.text" }"#, "a", "with.text", "has no value for subject"),
        (#"{ "stages": { "a": { "use": "test.text", "with": { "text": "{{ghost.title}}" } } }, "output": "a.text" }"#, "a", "with.text", "names no other stage"),
        (#"{ "stages": { "a": { "use": "test.text", "with": { "text": "x" }, "form": {} } }, "output": "a.text" }"#, "a", "form", "unknown field"),
    ])
    func invalidProfilesAreRejectedNamingStageAndField(body: String, stage: String, field: String, words: String) throws {
        let fixture = try ProfileFixture()
        defer { fixture.folder.remove() }
        try fixture.write("bad", body)
        let error = fixture.error { _ = try fixture.plan("bad") }
        #expect(error != nil, "expected a ProfileError for \(body)")
        #expect(error?.file.hasSuffix("bad.json") == true)
        #expect(error?.stage == stage)
        #expect(error?.field == field)
        #expect(error?.problem.contains(words) == true, "problem was: \(error?.problem ?? "none")")
        #expect(error?.exitCode == 2)
    }

    @Test func missingOrBadOutputIsRejected() throws {
        let fixture = try ProfileFixture()
        defer { fixture.folder.remove() }
        try fixture.write("none", #"{ "stages": { "a": { "use": "test.text", "with": { "text": "x" } } } }"#)
        #expect(fixture.error { _ = try fixture.plan("none") }?.field == "output")
        try fixture.write("wrong", #"{ "stages": { "a": { "use": "test.text", "with": { "text": "x" } } }, "output": "a.video" }"#)
        #expect(fixture.error { _ = try fixture.plan("wrong") }?.problem.contains("no output \"video\"") == true)
        try fixture.write("typo", #"{ "stages": { "a": { "use": "test.text", "with": { "text": "x" } } }, "outptu": "a.text" }"#)
        let typo = fixture.error { _ = try fixture.plan("typo") }
        #expect(typo?.field == "outptu")
        #expect(typo?.hint?.contains("did you mean \"output\"") == true)
    }

    @Test func cyclesAreReportedWithTheirPath() throws {
        let fixture = try ProfileFixture()
        defer { fixture.folder.remove() }
        try fixture.write("loop", """
            { "stages": {
                "x": { "use": "test.join", "from": { "a": "y.joined", "b": "z.text" } },
                "y": { "use": "test.join", "from": { "a": "x.joined", "b": "z.text" } },
                "z": { "use": "test.text", "with": { "text": "{{y.length}}" } } },
              "output": "x.joined" }
            """)
        let error = fixture.error { _ = try fixture.plan("loop") }
        #expect(error?.field == "stages")
        #expect(error?.problem.contains("cycle") == true)
        #expect(error?.problem.contains("→") == true)
    }

    @Test func extendsLoopIsRejected() throws {
        let fixture = try ProfileFixture()
        defer { fixture.folder.remove() }
        try fixture.write("one", #"{ "extends": "two" }"#)
        try fixture.write("two", #"{ "extends": "one" }"#)
        let error = fixture.error { _ = try fixture.library.load("one") }
        #expect(error?.field == "extends")
        #expect(error?.problem.contains("loop") == true)
    }

    @Test func setOnAMissingStageOrParameterIsRejected() throws {
        let fixture = try ProfileFixture()
        defer { fixture.folder.remove() }
        try fixture.write("base", diamond)
        let missingStage = fixture.error {
            _ = try fixture.plan("base", overrides: .init(parameters: [try ParameterOverride(parsing: "portrait.seed=7")]))
        }
        #expect(missingStage?.file == "--set portrait.seed")
        #expect(missingStage?.problem.contains("no stage \"portrait\"") == true)
        let missingParameter = fixture.error {
            _ = try fixture.plan("base", overrides: .init(parameters: [try ParameterOverride(parsing: "a.dealy=1")]))
        }
        #expect(missingParameter?.stage == "a")
        #expect(missingParameter?.hint?.contains("did you mean \"delay\"") == true)
        let badValue = fixture.error {
            _ = try fixture.plan("base", overrides: .init(parameters: [try ParameterOverride(parsing: "a.delay=soon")]))
        }
        #expect(badValue?.problem.contains("expected number") == true)
    }

    @Test func anInputTheProfileDoesNotTakeIsRejected() throws {
        let fixture = try ProfileFixture()
        defer { fixture.folder.remove() }
        try fixture.write("base", diamond)
        let error = fixture.error { _ = try fixture.plan("base", overrides: .init(inputs: ["song": "x.mp3"])) }
        #expect(error?.problem.contains("takes no input \"song\"") == true)
    }

    @Test func builtInProfilesResolve() throws {
        let library = ProfileLibrary(searchPath: [packageRoot.appendingPathComponent("profiles")])
        let offline = try library.load("offline")
        #expect(offline.files.count == 2)
        #expect(offline.defaultSubject == "demo")
        #expect(offline.swap["replicate.rvc"] == "offline.voice")
        #expect(library.entries().map(\.name).contains("vivid"))
    }
}

/// The package's root folder (for the built-in profiles).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
