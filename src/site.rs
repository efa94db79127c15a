//! `noai site`: the same reservation stated at the web level, to publish beside the files — a
//! `/.well-known/tdmrep.json` rule, `tdm-reservation`/`tdm-policy` HTTP headers and HTML meta
//! tags (W3C TDMRep), so crawlers that never open the audio still see it.

use crate::policy::Wanted;

/// The text `noai site` prints for `w`.
pub fn render(w: &Wanted) -> String {
    let reservation = u8::from(w.policy.reserved());
    let mut rule = serde_json::json!({ "location": "/", "tdm-reservation": reservation });
    if let Some(url) = &w.policy_url {
        rule["tdm-policy"] = url.clone().into();
    }
    let rules = crate::report::compact::sorted(serde_json::json!([rule]));
    let json = serde_json::to_string_pretty(&rules).unwrap_or_default();
    let mut headers = format!("tdm-reservation: {reservation}\n");
    let mut meta = format!("<meta name=\"tdm-reservation\" content=\"{reservation}\">\n");
    if let Some(url) = &w.policy_url {
        headers += &format!("tdm-policy: {url}\n");
        meta += &format!(
            "<meta name=\"tdm-policy\" content=\"{}\">\n",
            quick_xml::escape::escape(url)
        );
    }
    format!(
        "# Policy: {} ({})\n\n\
         # 1. /.well-known/tdmrep.json (W3C TDMRep): a JSON array of rules, first match wins\n{json}\n\n\
         # 2. HTTP response headers for the audio files and their pages\n{headers}\n\
         # 3. HTML <head> of the pages that offer the files\n{meta}",
        w.policy,
        w.policy.datamining_uri(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    #[test]
    fn states_reservation_and_policy_url() {
        let w = Wanted {
            policy: Policy::License,
            policy_url: Some("https://a.example/p?x=1&y=\"2\"".into()),
            constraints: None,
        };
        let text = render(&w);
        let start = text.find('[').unwrap();
        let end = text.find(']').unwrap();
        let rules: serde_json::Value = serde_json::from_str(&text[start..=end]).unwrap();
        assert_eq!(rules[0]["tdm-reservation"], 1);
        assert_eq!(rules[0]["location"], "/");
        assert!(text.contains("tdm-policy: https://a.example/p"));
        assert!(text.contains("content=\"https://a.example/p?x=1&amp;y=&quot;2&quot;\""));
        let allow = render(&Wanted {
            policy: Policy::Allow,
            policy_url: None,
            constraints: None,
        });
        assert!(allow.contains("tdm-reservation: 0") && !allow.contains("tdm-policy"));
    }
}
