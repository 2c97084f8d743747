// swift-tools-version:6.2
import PackageDescription

/// farm: a render farm for AI song-cover music videos.
///
/// Layout: `Sources/FarmKit` is the host (everything that is not a provider), `Plugins/*` are the
/// built-in stage providers (one library each, registered by the CLI), `Sources/farm` is the CLI.
let package = Package(
    name: "farm",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "farm", targets: ["farm"]),
        .library(name: "FarmKit", targets: ["FarmKit"]),
        .executable(name: "fake-replicate", targets: ["FakeReplicateServer"]),
        .executable(name: "fuzz-json", targets: ["FuzzJSON"]),
        .executable(name: "fuzz-profiles", targets: ["FuzzProfiles"]),
        .executable(name: "fuzz-predictions", targets: ["FuzzPredictions"]),
        .executable(name: "farm-bench", targets: ["FarmBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CJansson", path: "Sources/CJansson", pkgConfig: "jansson",
            providers: [.apt(["libjansson-dev"]), .brew(["jansson"])]),
        .systemLibrary(
            name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .target(
            name: "FarmKit",
            dependencies: [
                "CJansson",
                "CCurl",
                "CZlib",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]),
        // `farm serve`: the local web studio and its JSON API over FarmKit's services.
        .target(
            name: "FarmServer",
            dependencies: [
                "FarmKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // The voice dataset stage fetches linked recordings with the song sources' machinery.
        .target(name: "FFmpegProvider", dependencies: ["FarmKit", "FetchProvider"], path: "Plugins/FFmpeg"),
        .target(name: "OfflineProvider", dependencies: ["FarmKit"], path: "Plugins/Offline"),
        .target(name: "FetchProvider", dependencies: ["FarmKit"], path: "Plugins/Fetch"),
        .target(name: "ReplicateProvider", dependencies: ["FarmKit"], path: "Plugins/Replicate"),
        // An example out-of-process plugin (protocol v1) in Swift; its plugin.json names this program.
        .executableTarget(
            name: "farm-example-grade",
            dependencies: [.product(name: "Subprocess", package: "swift-subprocess")],
            path: "Plugins/examples/grade", exclude: ["plugin.json"]),
        .executableTarget(
            name: "farm",
            dependencies: [
                "FarmKit", "FFmpegProvider", "OfflineProvider", "FetchProvider", "ReplicateProvider", "FarmServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .target(
            name: "FarmTestSupport",
            dependencies: ["FarmKit", .product(name: "Subprocess", package: "swift-subprocess")],
            path: "Tests/Support", exclude: ["Fixtures"]),
        .testTarget(name: "FarmKitTests", dependencies: ["FarmKit", "FarmTestSupport"]),
        .testTarget(
            name: "PluginTests",
            dependencies: [
                "FarmKit", "FFmpegProvider", "OfflineProvider", "FetchProvider", "ReplicateProvider", "FarmTestSupport",
                "FakeReplicate",
            ]),
        .testTarget(
            name: "ServerTests", dependencies: ["FarmKit", "FarmTestSupport", .product(name: "Subprocess", package: "swift-subprocess")],
            exclude: ["Browser"]),
        .testTarget(name: "EndToEndTests", dependencies: ["FarmKit", "FarmTestSupport", "FakeReplicate"]),
        // A local fake of the Replicate HTTP API (library for in-process use, executable for other
        // processes), with real media from the offline provider. Used by tests and benchmarks.
        .target(
            name: "FakeReplicate",
            dependencies: [
                "FarmKit", "OfflineProvider",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/FakeReplicate",
            exclude: ["README.md"]),
        // libFuzzer targets (docs/fuzzing.md): built by scripts/fuzz with -sanitize=fuzzer -DFUZZING;
        // a plain build links them too, and then they only print how to build them.
        .target(name: "FuzzSupport", path: "Fuzz/FuzzSupport"),
        .executableTarget(name: "FuzzJSON", dependencies: ["FarmKit", "FuzzSupport"], path: "Fuzz/FuzzJSON"),
        .executableTarget(
            name: "FuzzProfiles",
            dependencies: ["FarmKit", "FuzzSupport", "FFmpegProvider", "OfflineProvider", "FetchProvider", "ReplicateProvider"],
            path: "Fuzz/FuzzProfiles"),
        .executableTarget(
            name: "FuzzPredictions", dependencies: ["FarmKit", "FuzzSupport", "ReplicateProvider"], path: "Fuzz/FuzzPredictions"),
        .executableTarget(name: "FakeReplicateServer", dependencies: ["FakeReplicate", "FarmKit"], path: "Tests/FakeReplicateServer"),
        .executableTarget(name: "farm-transfer-probe", dependencies: ["FarmKit"], path: "Tests/TransferProbe"),
        // Benchmarks: farm against the fake server, figures as ratios (built by CI, not run).
        .executableTarget(
            name: "FarmBench",
            dependencies: [
                "FakeReplicate", "FarmKit", "FarmTestSupport", "ReplicateProvider",
                .product(name: "Subprocess", package: "swift-subprocess"),
            ],
            path: "Benchmarks/FarmBench"),
        .testTarget(
            name: "FakeReplicateTests",
            dependencies: [
                "FakeReplicate", "FarmKit", "FarmTestSupport",
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]),
    ]
)
