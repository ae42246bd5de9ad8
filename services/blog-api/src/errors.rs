//! The service's own error answers, in the NestJS format of [`ApiError`], with the original's
//! messages.

use axum::http::StatusCode;
use nest_service::ApiError;
use nest_service::js_number::js_to_string;

/// 404 `Post with id 999 not found`.
pub fn post_not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("Post with id {id} not found"))
}

/// 404 `Category with id 999 not found`.
pub fn category_not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("Category with id {id} not found"))
}

/// 404 `User not found`: a correctly signed token of a user that does not exist (any more),
/// as the original answers it on every guarded route.
pub fn user_not_found() -> ApiError {
    ApiError::NotFound("User not found".into())
}

/// 400 `{"statusCode":400,"message":"Wrong credentials provided"}`.
pub fn wrong_credentials() -> ApiError {
    ApiError::Exception {
        status: StatusCode::BAD_REQUEST,
        message: "Wrong credentials provided".into(),
    }
}

/// 400 `{"statusCode":400,"message":"User with that email already exists"}`.
pub fn email_taken() -> ApiError {
    ApiError::Exception {
        status: StatusCode::BAD_REQUEST,
        message: "User with that email already exists".into(),
    }
}

/// 400 naming the category ids of a post that no category has (the original answered 500):
/// `Category with id 999 not found`, `Categories with ids 998, 999 not found`.
pub fn missing_categories(ids: &[f64]) -> ApiError {
    let printed: Vec<String> = ids.iter().map(|&id| js_to_string(id)).collect();
    let message = match printed.as_slice() {
        [one] => format!("Category with id {one} not found"),
        many => format!("Categories with ids {} not found", many.join(", ")),
    };
    ApiError::BadRequest(message)
}

/// The answer of a failed write: a row deleted meanwhile is `gone`; anything else is the
/// database's error.
pub fn gone_is(e: strata::Error, gone: impl FnOnce() -> ApiError) -> ApiError {
    if e.is_row_gone() { gone() } else { e.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_categories_are_named_as_javascript_prints_them() {
        let one = format!("{:?}", missing_categories(&[999.0]));
        assert!(one.contains("Category with id 999 not found"), "{one}");
        let many = format!("{:?}", missing_categories(&[998.0, 1.5, 1e21]));
        assert!(many.contains("Categories with ids 998, 1.5, 1e+21 not found"), "{many}");
    }
}
