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
            // Descriptions are text (a schema in their place once slipped through).
            func descriptions(_ value: JSON, _ path: String) {
                if let object = value.objectValue {
                    for (key, member) in object.dictionary {
                        if key == "description", member.stringValue == nil, path.hasSuffix("/properties") == false {
                            Issue.record("the description at \(path) is not text")
                        }
                        descriptions(member, path + "/" + key)
                    }
                } else if let array = value.arrayValue {
                    for (index, member) in array.enumerated() { descriptions(member, "\(path)/\(index)") }
                }
            }
            descriptions(document, "")
            // The graph, chunk and clip fields the page and farm render --server use are documented.
            #expect(schemas["PlannedStage"]?["required"]?.arrayValue?.contains("depends_on") == true)
            #expect(schemas["Event"]?["properties"]?["event"]?["enum"]?.arrayValue?.contains("chunks") == true)
            let stageFields = schemas["RunDetail"]?["allOf"]?.arrayValue?.last?["properties"]?["stages"]?["items"]?["properties"]?.objectValue
            #expect(Set(["depends_on", "chunks", "chunks_cached"]).isSubset(of: stageFields?.dictionary.keys.map { $0 } ?? []))
            let requestFields = schemas["RenderRequest"]?["properties"]?.objectValue?.dictionary.keys.map { $0 } ?? []
            #expect(Set(["start", "end", "clip", "refresh"]).isSubset(of: requestFields))
            let events = paths["/api/renders/{id}/events"]?["get"]?["responses"]?["200"]?["content"]?.objectValue?.dictionary.keys.map { $0 }
            #expect(Set(events ?? []) == ["text/event-stream", "application/json"])
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
