//! Cases of a run with their requests (AW) and transactions, and one case's detail
//! (CodeArts case_aw_info_list and CaseReportDetail). Ids are positions in name order, stable
//! because runs never change: case `2`, its request `2-3`.

use datafusion::scalar::ScalarValue;

use super::run_report::{DetailData, details};
use super::{f64_column, string_column};
use crate::error::QueryError;
use crate::functions::PercentileMethod;
use crate::{QueryEngine, TimeUnit};

/// A request or transaction of a case.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseItem {
    /// `<case id>-<n>`, n counting requests and transactions together in name order.
    pub detail_id: String,
    pub name: String,
    pub samples: u64,
}

/// One case (thread group).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseInfo {
    pub case_id: u32,
    pub case_name: String,
    pub requests: Vec<CaseItem>,
    pub transactions: Vec<CaseItem>,
}

/// CaseReportDetail: the case's own row, its requests and its transactions.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseDetail {
    pub case_id: u32,
    pub case_name: String,
    pub performance: Option<DetailData>,
    pub detail_datas: Vec<DetailData>,
    pub custom_transactions: Vec<DetailData>,
    /// The unit of every response time above (`timeUnit: "us"` in JSON; left out when ms).
    #[serde(skip_serializing_if = "TimeUnit::is_ms")]
    pub time_unit: TimeUnit,
}

/// The cases of `run_id`, in name order.
pub async fn cases(engine: &QueryEngine, run_id: &str) -> Result<Vec<CaseInfo>, QueryError> {
    let (_, batches) = engine
        .sql_with_params(
            crate::queries::CASES,
            vec![ScalarValue::Utf8(Some(run_id.to_string()))],
        )
        .await?;
    let mut out: Vec<CaseInfo> = Vec::new();
    for b in &batches {
        let (names, labels, kinds) = (
            string_column(b, "case_name")?,
            string_column(b, "label")?,
            string_column(b, "kind")?,
        );
        let samples = f64_column(b, "samples")?;
        for i in 0..names.len() {
            if out.last().is_none_or(|c| c.case_name != names[i]) {
                out.push(CaseInfo {
                    case_id: out.len() as u32 + 1,
                    case_name: names[i].clone(),
                    requests: Vec::new(),
                    transactions: Vec::new(),
                });
            }
            let Some(case) = out.last_mut() else { continue };
            let n = case.requests.len() + case.transactions.len() + 1;
            let item = CaseItem {
                detail_id: format!("{}-{n}", case.case_id),
                name: labels[i].clone(),
                samples: samples[i].unwrap_or(0.0) as u64,
            };
            if kinds[i] == "transaction" {
                case.transactions.push(item);
            } else {
                case.requests.push(item);
            }
        }
    }
    Ok(out)
}

/// The detail of the case named `case` (or with that id).
pub async fn case_detail(
    engine: &QueryEngine,
    run_id: &str,
    case: &str,
    method: PercentileMethod,
) -> Result<Option<CaseDetail>, QueryError> {
    let all = cases(engine, run_id).await?;
    let Some(info) = all
        .iter()
        .find(|c| c.case_name == case || c.case_id.to_string() == case)
    else {
        return Ok(None);
    };
    let rows = details(engine, run_id, method, &[]).await?;
    let mut detail = CaseDetail {
        case_id: info.case_id,
        case_name: info.case_name.clone(),
        performance: None,
        detail_datas: Vec::new(),
        custom_transactions: Vec::new(),
        time_unit: engine.time_unit(),
    };
    for d in rows.into_iter().filter(|d| d.case_name == info.case_name) {
        match d.level.as_str() {
            "case" => detail.performance = Some(d),
            "transaction" => detail.custom_transactions.push(d),
            _ => detail.detail_datas.push(d),
        }
    }
    Ok(Some(detail))
}
