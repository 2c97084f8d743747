// grade.look — an example farm plugin (protocol v1) in Swift, built by the package as the
// executable `farm-example-grade`; plugin.json names it by that bare name, which farm looks up
// next to its own binary, then on PATH.
//
// It shows several runs at once (`"concurrency": 2`): each run is a task; `cancel` cancels the
// task, which stops its ffmpeg (SIGTERM, then SIGKILL) through swift-subprocess. Standard output
// carries protocol lines only; logs go to standard error. See docs/plugins.md.
import Foundation
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// What farm sends. Every message has a `type`; the other fields depend on it.
struct Incoming: Decodable {
    struct Params: Decodable {
        let saturation: Double
        let contrast: Double
        let brightness: Double
        let vignette: Bool
    }

    let type: String
    let protocols: [Int]?
    let id: String?
    let stage: String?
    let inputs: [String: String]?
    let params: Params?
    let output_dir: String?
}

/// Writes protocol lines, one whole line at a time, flushed.
actor Replies {
    func send(_ object: [String: JSONValue]) {
        let data = try! JSONEncoder().encode(object)
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}

/// The JSON values this plugin sends.
enum JSONValue: Encodable, Sendable {
    case string(String), number(Double), integer(Int), strings([String]), object([String: JSONValue])

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .strings(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

func log(_ text: String) {
    FileHandle.standardError.write(Data("grade: \(text)\n".utf8))
}

@main
struct GradePlugin {
    static func main() async {
        let replies = Replies()
        // Standard input is read on a thread of its own, so messages arrive while runs work.
        let (messages, incoming) = AsyncStream.makeStream(of: String.self)
        Thread {
            while let line = readLine() { incoming.yield(line) }
            incoming.finish()
        }.start()

        var runs: [String: Task<Void, Never>] = [:]
        reading: for await line in messages where !line.isEmpty {
            guard let message = try? JSONDecoder().decode(Incoming.self, from: Data(line.utf8)) else {
                log("cannot read a message from farm: \(line)")
                continue
            }
            switch message.type {
            case "hello":
                guard message.protocols?.contains(1) == true else {
                    log("farm does not speak protocol 1")
                    exit(1)
                }
                await replies.send(["type": .string("hello"), "protocol": .integer(1), "name": .string("grade"),
                                    "version": .string("1.0.0"), "stages": .strings(["look"])])
            case "run":
                guard let id = message.id else { continue }
                runs[id] = Task { await grade(message, id: id, replies: replies) }
            case "cancel":
                if let id = message.id { runs[id]?.cancel() }
            case "shutdown":
                break reading
            default:
                log("ignoring a message of type \(message.type)")
            }
        }
        // Shutdown or end of input: stop what is still running, then exit.
        for run in runs.values {
            run.cancel()
            await run.value
        }
    }
}

/// One run: ffmpeg with a colour grade, progress from ffmpeg's `-progress` output.
func grade(_ run: Incoming, id: String, replies: Replies) async {
    guard let input = run.inputs?["video"], let params = run.params, let folder = run.output_dir else {
        await replies.send(["type": .string("error"), "id": .string(id), "message": .string("the run message lacks inputs, params or output_dir")])
        return
    }
    let output = URL(fileURLWithPath: folder).appendingPathComponent("graded.mp4").path
    var filter = "eq=saturation=\(params.saturation):contrast=\(params.contrast):brightness=\(params.brightness)"
    if params.vignette { filter += ",vignette=angle=PI/5" }
    let total = await duration(of: input)
    log("run \(id): \(filter) on a \(total.map { String(format: "%.1f", $0) } ?? "?") s video")

    var options = PlatformOptions()
    options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(1))]
    do {
        let result = try await Subprocess.run(
            .name("ffmpeg"),
            arguments: ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-progress", "pipe:1", "-nostats",
                        "-i", input, "-vf", filter, "-map", "0:v:0", "-map", "0:a?", "-c:v", "libx264", "-preset", "veryfast",
                        "-crf", "20", "-pix_fmt", "yuv420p", "-threads", "2", "-c:a", "copy", "-map_metadata", "-1",
                        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-f", "mp4", output],
            platformOptions: options, input: .none, output: .sequence, error: .currentStandardError
        ) { execution in
            for try await line in execution.standardOutput.strings() {
                guard line.hasPrefix("out_time_us="), let micros = Double(line.dropFirst(12)), let total, total > 0 else { continue }
                let seconds = micros / 1_000_000
                await replies.send(["type": .string("progress"), "id": .string(id), "fraction": .number(min(1, max(0, seconds / total))),
                                    "message": .string(String(format: "%.1f of %.1f s", seconds, total))])
            }
        }
        try Task.checkCancellation()
        guard case .exited(0) = result.terminationStatus else {
            await replies.send(["type": .string("error"), "id": .string(id),
                                "message": .string("ffmpeg failed (\(result.terminationStatus)); its message is in the stage's log")])
            return
        }
        await replies.send(["type": .string("result"), "id": .string(id), "outputs": .object(["video": .string(output)])])
    } catch {
        if Task.isCancelled {
            await replies.send(["type": .string("error"), "id": .string(id), "code": .string("cancelled"), "message": .string("cancelled")])
        } else {
            await replies.send(["type": .string("error"), "id": .string(id), "message": .string("cannot run ffmpeg: \(error)"),
                                "hint": .string("install ffmpeg: sudo apt-get install ffmpeg")])
        }
    }
}

/// The video's length in seconds, from ffprobe.
func duration(of path: String) async -> Double? {
    let result = try? await Subprocess.run(
        .name("ffprobe"), arguments: ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path],
        output: .string(limit: 4096), error: .discarded)
    return result.flatMap { Double($0.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)) }
}
