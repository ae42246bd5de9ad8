//! The `/authentication` routes.
//!
//! | route | guarded | success |
//! | --- | --- | --- |
//! | `POST /authentication/register` | no | 201, the user (never the password) |
//! | `POST /authentication/log-in` | no | 200, the user with address and posts, and `Set-Cookie: Authentication=<JWT>; HttpOnly; Path=/; Max-Age=<JWT_EXPIRATION_TIME>` |
//! | `POST /authentication/log-out` | yes | 200 `OK` (`text/plain`), `Set-Cookie: Authentication=; HttpOnly; Path=/; Max-Age=0` |
//! | `GET /authentication` | yes | 200, the user with address |

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use nest_service::{ApiError, Body, json_response};

use crate::authentication::dto::{AddressInput, LogIn, RegisterDto};
use crate::authentication::jwt::CLEARED_COOKIE;
use crate::authentication::service::AuthenticationService;
use crate::state::AppState;
use crate::views::{LoggedInUser, RegisteredUser, UserView};

/// The routes of the authentication controller.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/authentication", get(authenticated_user))
        .route("/authentication/register", post(register))
        .route("/authentication/log-in", post(log_in))
        .route("/authentication/log-out", post(log_out))
}

async fn register(State(state): State<AppState>, Body(body): Body) -> Result<Response, ApiError> {
    let dto = RegisterDto::validate(&body).map_err(ApiError::Validation)?;
    let address_given = dto.address != AddressInput::Absent;
    let em = state.em().await?;
    let user = AuthenticationService::new(&em).register(dto).await?;
    Ok(json_response(StatusCode::CREATED, &RegisteredUser::of(&user, address_given)))
}

async fn log_in(State(state): State<AppState>, Body(body): Body) -> Result<Response, ApiError> {
    let log_in = LogIn::read(&body);
    if log_in == LogIn::Missing {
        // passport-local refuses before anything else.
        return Err(ApiError::unauthorized());
    }
    let em = state.em().await?;
    let user = AuthenticationService::new(&em).log_in(log_in).await?;
    let token = state
        .tokens()
        .sign(user.key())
        .map_err(|e| ApiError::Internal(format!("signing a token: {e}")))?;
    let mut response = json_response(StatusCode::OK, &LoggedInUser::of(&user));
    set_cookie(&mut response, &state.tokens().cookie(&token))?;
    Ok(response)
}

async fn log_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    super::guard(&state, &headers).await?;
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"))],
        "OK",
    )
        .into_response();
    set_cookie(&mut response, CLEARED_COOKIE)?;
    Ok(response)
}

async fn authenticated_user(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_em, user) = super::guard(&state, &headers).await?;
    Ok(json_response(StatusCode::OK, &UserView::of(&user)))
}

fn set_cookie(response: &mut Response, cookie: &str) -> Result<(), ApiError> {
    let value = HeaderValue::from_str(cookie)
        .map_err(|e| ApiError::Internal(format!("a cookie that is not a header value: {e}")))?;
    response.headers_mut().insert(header::SET_COOKIE, value);
    Ok(())
}
