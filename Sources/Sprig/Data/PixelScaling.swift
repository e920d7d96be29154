/// Conversion of 8-bit pixel values to features: `x / 255`, so 0 ↦ 0 and 255 ↦ 1.
public enum PixelScaling {
    /// The 256 possible results, each computed once as a correctly rounded `Float` division:
    /// the value table of a byte data set read from image files.
    public static let unitInterval: [Float] = (0 ..< 256).map { Float($0) / 255 }
}
