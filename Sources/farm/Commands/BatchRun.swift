import ArgumentParser
import FarmKit
import Foundation

/// `farm render` with several `--song`s or a `--batch` file: every job in one process.
struct BatchRun {
    let service: RenderService
    let jobs: [RenderRequest]
    let limits: [String: Int]
    let mode: RenderReporter.Mode

    func run(dryRun: Bool) async throws {
        if dryRun {
            // Each job is checked as a single dry run checks it (its song too); every problem is shown.
            var failed = false
            for (index, job) in jobs.enumerated() {
                do {
                    let plan = try await service.check(job)
                    print("job \(index + 1):")
                    print(PlanDescription.text(plan))
                } catch let error as any FarmError {
                    Console.printError("job \(index + 1) (\(job.song ?? "no song")): \(error.message)", hint: error.hint)
                    failed = true
                }
            }
            if failed { throw ArgumentParser.ExitCode(ExitStatus.badInput) }
            return
        }
        let reporter = BatchReporter(mode: mode, requests: jobs)
        let task = Task { [service, jobs, limits] in
            await service.renderBatch(jobs, limits: limits) { reporter.handle(job: $0, $1) }
        }
        let interrupt = InterruptHandler { task.cancel() }
        defer { interrupt.stop() }
        let results = await task.value
        reporter.finish(results)
        let code = Self.exitCode(results)
        if code != ExitStatus.success { throw ArgumentParser.ExitCode(code) }
    }

    /// 0 when every job succeeded; 130 when interrupted; 2 when every failure was bad input; else 1.
    static func exitCode(_ results: [Result<RenderSummary, any Error>]) -> Int32 {
        let codes = results.map { result -> Int32 in
            switch result {
            case .success(let summary): summary.exitCode
            case .failure(let error as any FarmError): error.exitCode
            case .failure(let error): error is CancellationError ? ExitStatus.interrupted : ExitStatus.stageFailed
            }
        }
        let failures = codes.filter { $0 != ExitStatus.success }
        if failures.isEmpty { return ExitStatus.success }
        if failures.contains(ExitStatus.interrupted) { return ExitStatus.interrupted }
        return failures.allSatisfy { $0 == ExitStatus.badInput } ? ExitStatus.badInput : ExitStatus.stageFailed
    }
}
