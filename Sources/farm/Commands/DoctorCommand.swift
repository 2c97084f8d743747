import ArgumentParser
import FarmKit
import FetchProvider
import Foundation
import ReplicateProvider

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the tools, the Replicate token, and a profile's parameters against the live models.",
        discussion: """
            Examples:
              farm doctor                                  # ffmpeg, ffprobe, yt-dlp, token
              farm doctor --profile vivid --subject alice  # also check vivid's parameters with Replicate
            """)

    @Option(help: "Also check this profile's stages (their parameters against the live model schemas).")
    var profile: String?

    @Option(help: "The subject to check the profile with (default: the profile's, else demo).")
    var subject: String?

    @OptionGroup var store: StoreOptions

    func run() async throws {
        // The profile is planned first, so the name column fits its longest stage name.
        var plan: Result<RenderPlan, any Error>?
        if let profile {
            do {
                let service = RenderService(registry: BuiltInProviders.registry, profiles: .standard(), home: store.homeURL)
                plan = .success(try service.plan(RenderRequest(profile: profile, subject: subject ?? Subject.demo.name), allowingMissingInputs: true))
            } catch {
                plan = .failure(error)
            }
        }
        let width = max(10, (try? plan?.get())?.nodes.map(\.name.count).max() ?? 0)
        var failures = 0
        func report(_ ok: Bool?, _ name: String, _ detail: String) {
            let mark = ok == true ? "ok  " : ok == false ? "FAIL" : "warn"
            if ok == false { failures += 1 }
            print("\(mark)  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(detail)")
        }

        for tool in ["ffmpeg", "ffprobe"] {
            do {
                let output = try await ProcessRunner.run(tool, ["-version"], timeout: .seconds(20))
                report(output.status == 0, tool, String(output.standardOutput.split(separator: "\n").first ?? "unknown version"))
            } catch {
                report(false, tool, "not found: install it with sudo apt-get install ffmpeg")
            }
        }
        let ytdlp = YTDLP()
        do {
            let version = try await ytdlp.version()
            if let age = YTDLP.ageInDays(ofVersion: version), age > 90 {
                report(nil, "yt-dlp", "\(version) is \(age) days old, and sites change: update it (python3 -m pip install -U yt-dlp)")
            } else {
                report(true, "yt-dlp", version)
            }
        } catch MediaError.notInstalled(_) {
            let configured = ytdlp.executable == "yt-dlp" ? "" : " (FARM_YT_DLP is \(ytdlp.executable))"
            report(nil, "yt-dlp", "not found\(configured); needed for song links to web pages and YouTube: \(YTDLP.installHint)")
        } catch {
            report(nil, "yt-dlp", "does not run: \(error)")
        }

        let replicate = ReplicateProvider()
        let configuration = replicate.client.configuration
        if let problem = configuration.settingProblem {
            report(false, "replicate", problem.message)
        }
        if !configuration.hasToken {
            report(nil, "token", "REPLICATE_API_TOKEN is not set: only offline profiles can render")
        } else {
            do {
                let account = try await replicate.client.account()
                report(true, "token", "accepted by \(configuration.baseURL.absoluteString) (account \(account["username"]?.stringValue ?? "?"))")
            } catch let error as any FarmError {
                report(false, "token", error.message + (error.hint.map { " (\($0))" } ?? ""))
            }
        }

        switch plan {
        case .success(let plan):
            report(true, "profile", "\(plan.profile.name) resolves: \(plan.nodes.count) stages")
            for node in plan.nodes where node.canPreflight {
                do {
                    let context = PreflightContext(stageName: node.name, home: store.homeURL)
                    _ = try await node.implementation.preflight(node.parameters.dictionary, in: context)
                    report(true, node.name, "\(node.implementation.id) parameters accepted")
                } catch let error as any FarmError {
                    report(false, node.name, error.message)
                }
            }
        case .failure(let error):
            report(false, "profile", (error as? any FarmError)?.message ?? "\(error)")
        case nil:
            break
        }
        if failures > 0 { throw ArgumentParser.ExitCode(ExitStatus.stageFailed) }
    }
}
