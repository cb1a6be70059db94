//! The per-domain quotas DataZone enforces on what a domain holds.

/// A domain holding `held` of what it may hold `limit` of takes no more (environments, glossaries,
/// terms, data products) [docs: Quotas for Amazon DataZone]; what the refusal says is [inferred].
pub(crate) fn domain_quota(held: usize, limit: usize, domain: &str, what: &str) -> crate::error::AwsResult<()> {
    if held >= limit {
        let message = format!("Domain {domain} has reached the limit of {limit} {what} per domain");
        return Err(crate::error::AwsError::quota(message));
    }
    Ok(())
}
