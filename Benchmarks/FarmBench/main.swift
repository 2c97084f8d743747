import FakeReplicate
import FarmKit
import FarmTestSupport
import Foundation
import ReplicateProvider

/// `farm-bench`: farm's speed against the fake Replicate server, as ratios measured in one run.
///
///     swift build -c release --static-swift-stdlib
///     .build/release/farm-bench [--scale 0.2] [--batch 50] [--batch-scale 0.25] [--figures 1,4,6]
///
/// Starts the fake in-process (latencies modelled on the real models, multiplied by `--scale`;
/// cheap media, so the fake's own ffmpeg work is not what is measured; at most 50 predictions at
/// once), runs the real `farm` binary next to this one, and prints each figure with its target.

let usage = """
    usage: farm-bench [--scale F] [--batch N] [--batch-scale F] [--figures LIST]
      defaults: --scale 0.2 --batch 50 --batch-scale 0.25 --figures 1,2,3,4,5,6
      (figures 1 and 4 and the start-up half of 6 always run: they are quick, and 2 and 3 compare against 1)
    """
var scale = 0.2
var batchSize = 50
var batchScale = 0.25
var figures = Set(1...6)
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    let value = arguments.popFirst()
    switch (argument, value.flatMap(Double.init)) {
    case ("--scale", let value?) where value > 0: scale = value
    case ("--batch", let value?) where value >= 1: batchSize = Int(value)
    case ("--batch-scale", let value?) where value > 0: batchScale = value
    case ("--figures", _) where value.map({ !$0.isEmpty && $0.split(separator: ",").allSatisfy { Int($0).map((1...6).contains) ?? false } }) ?? false:
        figures = Set(value!.split(separator: ",").compactMap { Int($0) })
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
    try await bench.run(figures: figures, batchSize: batchSize)
} catch {
    FileHandle.standardError.write(Data("farm-bench: \(error)\n".utf8))
    await bench.stop()
    exit(1)
}
await bench.stop()
