//! [`BearerChannels`]: gRPC channels to query workers that carry the cluster's bearer token.

use async_trait::async_trait;
use datafusion::error::DataFusionError;
use datafusion_distributed::{ChannelResolver, WorkerChannel, grpc};
use http::HeaderValue;
use url::Url;

use crate::ClusterError;

/// Opens (and caches, per worker) the channels a coordinator — or a worker reading another's
/// stage — uses, adding `authorization: Bearer <token>` to every call when there is a token.
#[derive(Clone)]
pub(crate) struct BearerChannels {
    cached: grpc::DefaultChannelResolver,
    authorization: Option<HeaderValue>,
}

impl BearerChannels {
    /// Channels sending `token` (none: calls carry no token).
    pub(crate) fn new(token: Option<&str>) -> Result<BearerChannels, ClusterError> {
        let authorization = token
            .map(|t| {
                let mut value = HeaderValue::from_str(&format!("Bearer {t}"))
                    .map_err(|_| ClusterError::BadToken)?;
                value.set_sensitive(true);
                Ok::<_, ClusterError>(value)
            })
            .transpose()?;
        Ok(BearerChannels {
            cached: grpc::DefaultChannelResolver::default(),
            authorization,
        })
    }
}

#[async_trait]
impl ChannelResolver for BearerChannels {
    async fn get_worker_client_for_url(
        &self,
        url: &Url,
    ) -> Result<Box<dyn WorkerChannel>, DataFusionError> {
        let channel = self.cached.get_channel(url).await?;
        let Some(authorization) = self.authorization.clone() else {
            return Ok(grpc::create_worker_client(channel));
        };
        let with_token = tower::ServiceBuilder::new()
            .map_request(move |mut request: http::Request<tonic::body::Body>| {
                request
                    .headers_mut()
                    .insert(http::header::AUTHORIZATION, authorization.clone());
                request
            })
            .service(channel);
        Ok(grpc::create_worker_client(grpc::BoxCloneSyncChannel::new(
            with_token,
        )))
    }
}
