import FakeReplicate
import FarmKit
import FarmTestSupport
import Foundation
import ReplicateProvider

/// `farm-bench`: farm's speed against the fake Replicate server, as ratios measured in one run.
///
///     swift build -c release --static-swift-stdlib
///     .build/release/farm-bench [--scale 0.2] [--batch 50] [--batch-scale 0.25]
///
/// Starts the fake in-process (latencies modelled on the real models, multiplied by `--scale`;
/// cheap media, so the fake's own ffmpeg work is not what is measured; at most 50 predictions at
/// once), runs the real `farm` binary next to this one, and prints each figure with its target.

let usage = "usage: farm-bench [--scale F] [--batch N] [--batch-scale F]   (defaults: --scale 0.2 --batch 50 --batch-scale 0.25)"
var scale = 0.2
var batchSize = 50
var batchScale = 0.25
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch (argument, arguments.popFirst().flatMap(Double.init)) {
    case ("--scale", let value?) where value > 0: scale = value
    case ("--batch", let value?) where value >= 1: batchSize = Int(value)
    case ("--batch-scale", let value?) where value > 0: batchScale = value
    default:
        FileHandle.standardError.write(Data("farm-bench: bad argument \(argument)\n\(usage)\n".utf8))
        exit(2)
    }
}

let farmBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    .appendingPathComponent("farm")
guard FileManager.default.isExecutableFile(atPath: farmBinary.path) else {
    FileHandle.standardError.write(Data("farm-bench: no farm binary at \(farmBinary.path)\nhint: swift build -c release --product farm --product farm-bench\n".utf8))
    exit(2)
}

let bench = try await Bench.start(scale: scale, batchScale: batchScale, farm: farmBinary)
do {
    try await bench.runAll(batchSize: batchSize)
} catch {
    FileHandle.standardError.write(Data("farm-bench: \(error)\n".utf8))
    await bench.stop()
    exit(1)
}
await bench.stop()
