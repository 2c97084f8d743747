/// The cache key of one stage run: the SHA-256 of the canonical JSON of the implementation id,
/// the resolved parameters, the input digests, what the preflight prepared (artifact digests and
/// facts; left out when nothing) and any extra identity the stage declares.
enum CacheKey {
    static func compute(stage: StageID, parameters: JSONObject, inputs: [String: Artifact], prepared: Preparation, identity: JSON?) -> String {
        var material: JSONObject = [
            "stage": .string(stage.description),
            "parameters": .object(parameters),
            "inputs": .object(digests(inputs)),
            "identity": identity ?? .null,
        ]
        if !prepared.isEmpty {
            material["prepared"] = ["artifacts": .object(digests(prepared.artifacts)), "facts": .object(JSONObject(prepared.facts.map { ($0.key, $0.value) }))]
        }
        return SHA256.hex(of: JSON.object(material).canonicalString)
    }

    private static func digests(_ artifacts: [String: Artifact]) -> JSONObject {
        var digests = JSONObject()
        for (name, artifact) in artifacts { digests[name] = .string(artifact.digest) }
        return digests
    }
}
