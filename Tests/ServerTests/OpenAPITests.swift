import FarmKit
import FarmTestSupport
import Foundation
import Testing

@Suite struct OpenAPITests {
    /// Every endpoint the studio answers, as documented paths with their methods.
    static let endpoints: [String: Set<String>] = [
        "/": ["get"], "/openapi.json": ["get"],
        "/api/profiles": ["get"], "/api/subjects": ["get"], "/api/providers": ["get"], "/api/uploads": ["post"],
        "/api/renders": ["get", "post"], "/api/renders/{id}": ["get"], "/api/renders/{id}/events": ["get"],
        "/api/renders/{id}/cancel": ["post"],
        "/api/runs": ["get"], "/api/runs/{id}": ["get"], "/api/runs/{id}/video": ["get"], "/api/runs/{id}/still": ["get"],
        "/api/runs/{id}/stages/{stage}/outputs/{port}": ["get"],
    ]

    @Test func theDocumentDescribesEveryEndpointAndEachAnswersItsMethods() async throws {
        let studio = try Studio()
        defer { studio.remove() }
        try await studio.serve { server in
            let response = try await studio.get(server, "/openapi.json")
            #expect(response.status == 200)
            let document = try response.json()
            #expect(document["openapi"]?.stringValue?.hasPrefix("3.1") == true)
            let paths = try #require(document["paths"]?.objectValue)
            var documented: [String: Set<String>] = [:]
            for (path, operations) in paths.dictionary {
                documented[path] = Set(operations.objectValue?.dictionary.keys.map { $0 } ?? [])
                for (_, operation) in operations.objectValue?.dictionary ?? [:] {
                    #expect(operation["responses"]?.objectValue?.dictionary.isEmpty == false, "\(path) documents its responses")
                }
            }
            #expect(documented == Self.endpoints)
            // Every $ref resolves.
            let text = String(decoding: response.body, as: UTF8.self)
            let schemas = try #require(document["components"]?["schemas"]?.objectValue?.dictionary)
            for match in text.matches(of: /"#\/components\/schemas\/(\w+)"/) {
                #expect(schemas[String(match.1)] != nil, "schema \(match.1)")
            }
            // Each documented route exists: the router knows it (a missing resource, not a missing route).
            for (path, methods) in Self.endpoints {
                let concrete = path.replacingOccurrences(of: "{id}", with: "nosuch").replacingOccurrences(of: "{stage}", with: "video")
                    .replacingOccurrences(of: "{port}", with: "video")
                for method in methods where method == "get" {
                    let answer = try await studio.get(server, concrete)
                    #expect(answer.errorMessage?.contains("no such page or API") != true, "GET \(path)")
                }
            }
        }
    }
}
