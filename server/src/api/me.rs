//! The signed-in user.

use axum::Json;
use serde::Serialize;

use super::session::CurrentDevice;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    user_id: String,
    email: String,
    root_doc_url: String,
}

pub async fn show(current: CurrentDevice) -> Json<Me> {
    Json(Me {
        user_id: current.user.id,
        email: current.user.email,
        root_doc_url: current.user.root_doc.to_url(),
    })
}
