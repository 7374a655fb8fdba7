//! AWS Signature Version 4 (<https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>)
//! for the Bedrock adapters (chat and embeddings): the canonical request, the string to sign, the
//! derived signing key and the `Authorization` header, checked against AWS's published
//! SigV4 test suite. Written here (HMAC-SHA256 over the `sha2` crate the server already
//! uses) rather than pulling in the AWS SDK's signing crates and their dependency tree.

use sha2::{Digest, Sha256};

/// AWS credentials as the seed service's `LLM-PARAM-aws-*` headers or the operator's
/// standard environment give them (`Debug` hides the secret and the session token).
#[derive(Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    /// `aws_access_key_id` / `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `aws_secret_access_key` / `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
    /// `aws_session_token` / `AWS_SESSION_TOKEN`, for temporary credentials.
    pub session_token: Option<String>,
    /// `aws_region_name` / `AWS_REGION`.
    pub region: String,
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[hidden]")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "[hidden]"),
            )
            .field("region", &self.region)
            .finish()
    }
}

/// One request to sign. Header names must be lowercase and include `host`.
#[derive(Debug, Clone)]
pub struct SignedRequest<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The path as sent (`/model/meta.llama3-8b-instruct-v1%3A0/converse`).
    pub path: &'a str,
    /// The query as sent, without `?` (may be empty).
    pub query: &'a str,
    /// Headers to sign, lowercase names.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub payload: &'a [u8],
}

/// The headers to add to `request`: `x-amz-date`, `x-amz-security-token` with
/// temporary credentials, and `authorization`. `amz_date` is `YYYYMMDDTHHMMSSZ`.
pub fn sign(
    request: &SignedRequest<'_>,
    credentials: &AwsCredentials,
    service: &str,
    amz_date: &str,
) -> Vec<(String, String)> {
    let mut added = vec![("x-amz-date".to_owned(), amz_date.to_owned())];
    if let Some(token) = &credentials.session_token {
        added.push(("x-amz-security-token".to_owned(), token.clone()));
    }
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .chain(&added)
        .map(|(name, value)| (name.to_ascii_lowercase(), collapse(value)))
        .collect();
    headers.sort();
    let date = &amz_date[..amz_date.len().min(8)];
    let scope = format!("{date}/{}/{service}/aws4_request", credentials.region);
    let (canonical, signed_headers) = canonical_request(request, &headers);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let key = signing_key(
        &credentials.secret_access_key,
        date,
        &credentials.region,
        service,
    );
    let signature = hex(&hmac_sha256(&key, string_to_sign.as_bytes()));
    added.push((
        "authorization".to_owned(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, \
             Signature={signature}",
            credentials.access_key_id
        ),
    ));
    added
}

/// The canonical request and the signed header list, from sorted lowercase headers.
pub fn canonical_request(
    request: &SignedRequest<'_>,
    headers: &[(String, String)],
) -> (String, String) {
    let path = if request.path.is_empty() {
        "/"
    } else {
        request.path
    };
    let canonical_uri = path
        .split('/')
        .map(uri_encode)
        .collect::<Vec<_>>()
        .join("/");
    let mut pairs: Vec<(String, String)> = request
        .query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (uri_encode(&decode(key)), uri_encode(&decode(value)))
        })
        .collect();
    pairs.sort();
    let query = pairs
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    let canonical_headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect();
    let signed = headers
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical = format!(
        "{}\n{canonical_uri}\n{query}\n{canonical_headers}\n{signed}\n{}",
        request.method,
        hex(&Sha256::digest(request.payload))
    );
    (canonical, signed)
}

/// `YYYYMMDDTHHMMSSZ` of a Unix time (UTC).
pub fn amz_date(unix_seconds: u64) -> String {
    let days = unix_seconds / 86_400;
    let rest = unix_seconds % 86_400;
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The key of `AWS4-HMAC-SHA256` for one day, region and service.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// HMAC-SHA256 (RFC 2104; SHA-256's block is 64 bytes).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let mut inner = Sha256::new();
    inner.update(pad(0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(pad(0x5c));
    outer.update(inner.finalize());
    outer.finalize().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Header values are trimmed and inner runs of spaces collapsed.
fn collapse(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// SigV4's URI encoding: every byte but `A-Z a-z 0-9 - _ . ~` as `%XX`.
fn uri_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Percent-decoding of a query component, so it is encoded exactly once.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex_pair = bytes.get(i + 1..i + 3).and_then(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
        });
        match (bytes[i], hex_pair) {
            (b'%', Some(value)) => {
                out.push(value);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    //! Vectors of AWS's Signature Version 4 test suite (`aws-sig-v4-test-suite`:
    //! get-vanilla, get-vanilla-query-order-key-case, post-vanilla), all signed at
    //! 20150830T123600Z for service `service` in us-east-1 with the suite's example keys.

    use super::*;

    fn suite_credentials() -> AwsCredentials {
        AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
            region: "us-east-1".into(),
        }
    }

    fn authorization(method: &str, query: &str) -> String {
        let request = SignedRequest {
            method,
            path: "/",
            query,
            headers: vec![("host".into(), "example.amazonaws.com".into())],
            payload: b"",
        };
        let added = sign(
            &request,
            &suite_credentials(),
            "service",
            "20150830T123600Z",
        );
        added
            .into_iter()
            .find(|(name, _)| name == "authorization")
            .unwrap()
            .1
    }

    const PREFIX: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=";

    #[test]
    fn the_suites_vanilla_requests_sign_as_published() {
        assert_eq!(
            authorization("GET", ""),
            format!("{PREFIX}5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        );
        assert_eq!(
            authorization("GET", "Param2=value2&Param1=value1"),
            format!("{PREFIX}b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
        );
        assert_eq!(
            authorization("POST", ""),
            format!("{PREFIX}5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")
        );
    }

    #[test]
    fn the_canonical_request_hashes_as_published() {
        let request = SignedRequest {
            method: "GET",
            path: "/",
            query: "",
            headers: Vec::new(),
            payload: b"",
        };
        let headers = vec![
            ("host".to_owned(), "example.amazonaws.com".to_owned()),
            ("x-amz-date".to_owned(), "20150830T123600Z".to_owned()),
        ];
        let (canonical, signed) = canonical_request(&request, &headers);
        assert_eq!(signed, "host;x-amz-date");
        // get-vanilla.sts: the hash line of the published string to sign.
        assert_eq!(
            hex(&Sha256::digest(canonical.as_bytes())),
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        );
    }

    #[test]
    fn session_tokens_are_signed_and_secrets_never_shown() {
        let mut credentials = suite_credentials();
        credentials.session_token = Some("token-secret".into());
        let request = SignedRequest {
            method: "POST",
            path: "/model/x/converse",
            query: "",
            headers: vec![(
                "host".into(),
                "bedrock-runtime.us-east-1.amazonaws.com".into(),
            )],
            payload: b"{}",
        };
        let added = sign(&request, &credentials, "bedrock", "20240101T000000Z");
        assert_eq!(
            added[1],
            ("x-amz-security-token".to_owned(), "token-secret".to_owned())
        );
        assert!(
            added[2]
                .1
                .contains("SignedHeaders=host;x-amz-date;x-amz-security-token,"),
            "{:?}",
            added[2]
        );
        let shown = format!("{credentials:?}");
        assert!(
            !shown.contains("wJalr") && !shown.contains("token-secret"),
            "{shown}"
        );
    }

    #[test]
    fn dates_format_in_utc() {
        assert_eq!(amz_date(1_440_938_160), "20150830T123600Z");
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(amz_date(951_825_600), "20000229T120000Z");
    }
}
