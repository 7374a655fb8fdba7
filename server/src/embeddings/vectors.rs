//! Embedding vectors at rest and in comparison: unit length, stored as little-endian
//! `f32` BLOBs, compared by dot product (the cosine, as both sides have unit length).

/// `vector` scaled to unit length; `None` when it has no direction (all zeros) or holds
/// a non-finite number, as no similarity can be computed from it.
pub fn normalised(vector: &[f32]) -> Option<Vec<f32>> {
    if vector.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let norm = vector
        .iter()
        .map(|x| f64::from(*x) * f64::from(*x))
        .sum::<f64>()
        .sqrt();
    (norm > 0.0).then(|| {
        vector
            .iter()
            .map(|x| (f64::from(*x) / norm) as f32)
            .collect()
    })
}

/// The BLOB of a vector: its `f32`s little-endian, one after the other.
pub fn to_blob(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A vector read back from its BLOB; `None` when the length is not a multiple of 4.
pub fn from_blob(blob: &[u8]) -> Option<Vec<f32>> {
    blob.len().is_multiple_of(4).then(|| {
        blob.chunks_exact(4)
            .map(|bytes| f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
            .collect()
    })
}

/// The dot product of a stored BLOB with `query`, without building the stored vector;
/// `None` when their dimensions differ (a vector from another model).
pub fn dot_blob(blob: &[u8], query: &[f32]) -> Option<f64> {
    if blob.len() != query.len() * 4 {
        return None;
    }
    let sum = blob
        .chunks_exact(4)
        .zip(query)
        .map(|(bytes, q)| {
            f64::from(f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])) * f64::from(*q)
        })
        .sum::<f64>();
    Some(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_through_blobs() {
        let vector = vec![0.25_f32, -1.5, 3.0e-7, 42.0];
        assert_eq!(from_blob(&to_blob(&vector)).unwrap(), vector);
        assert_eq!(from_blob(&[1, 2, 3]), None);
    }

    #[test]
    fn dot_of_unit_vectors_is_the_cosine() {
        let a = normalised(&[3.0, 4.0]).unwrap();
        let b = normalised(&[4.0, 3.0]).unwrap();
        let cosine = dot_blob(&to_blob(&a), &b).unwrap();
        assert!((cosine - 24.0 / 25.0).abs() < 1e-6, "{cosine}");
        assert!((dot_blob(&to_blob(&a), &a).unwrap() - 1.0).abs() < 1e-6);
        assert_eq!(dot_blob(&to_blob(&a), &[1.0, 0.0, 0.0]), None);
    }

    #[test]
    fn directionless_or_broken_vectors_are_refused() {
        assert_eq!(normalised(&[0.0, 0.0]), None);
        assert_eq!(normalised(&[f32::NAN, 1.0]), None);
        assert_eq!(normalised(&[]), None);
    }
}
