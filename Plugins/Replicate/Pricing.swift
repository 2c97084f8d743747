/// Rough prices of the models farm runs, to show an *estimated* cost per stage. Replicate bills by
/// hardware time or per output; these figures are estimates from its public price list and may be
/// out of date.
public struct Pricing: Sendable {
    enum Rate: Sendable {
        /// US dollars per second of `predict_time`.
        case perSecond(Double)
        /// US dollars per prediction.
        case perPrediction(Double)
    }

    let rates: [String: Rate]
    /// Used for models not in the table (trained LoRA destinations run on H100-class hardware).
    let fallback: Rate

    public static let estimates = Pricing(
        rates: [
            "black-forest-labs/flux-dev-lora": .perPrediction(0.032),
            "black-forest-labs/flux-pro-finetuned": .perPrediction(0.06),
            "zsxkib/realistic-voice-cloning": .perSecond(0.000725),
            "zsxkib/sonic": .perSecond(0.0014),
        ],
        fallback: .perSecond(0.001525))

    /// The estimated cost of one prediction, nil when its time is unknown for a per-second model.
    public func estimate(model: String, predictTime: Double?) -> Double? {
        switch rates[model] ?? fallback {
        case .perPrediction(let price): price
        case .perSecond(let price): predictTime.map { $0 * price }
        }
    }
}
