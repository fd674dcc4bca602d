/**
 * The image reference format every image the platform runs is given in: the stack config's images
 * (mlops:mlflow.image, mlops:monitoring.driftCheckImage) and a team's ModelService and BatchInference.
 */

/** `registry/repo[:tag][@sha256:digest]`, with a tag or a digest or both. */
export const IMAGE_REFERENCE =
    /^[a-z0-9]+([._-][a-z0-9]+)*(\.[a-z0-9-]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+((:[\w][\w.-]{0,127})(@sha256:[a-f0-9]{64})?|@sha256:[a-f0-9]{64})$/;
